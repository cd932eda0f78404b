package main

import (
	"context"
	"fmt"
	"io"
)

func cmdVerify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", "check every ledger invariant for every account; exit non-zero naming each account that breaks one", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := openTool(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	vs, err := a.svc.Verify(ctx)
	if err != nil {
		return err
	}
	for _, v := range vs {
		fmt.Fprintln(stdout, v)
	}
	if len(vs) > 0 {
		return fmt.Errorf("verify: %d invariant violations", len(vs))
	}
	fmt.Fprintln(stdout, "ledger ok: every invariant holds")
	return nil
}
