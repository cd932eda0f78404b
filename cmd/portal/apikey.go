package main

import (
	"context"
	"fmt"
	"io"

	"creditline/billing"
)

func cmdAPIKey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "revoke") {
		fmt.Fprintln(stderr, "usage: portal apikey create --platform --name N | portal apikey create --account ID --name N | portal apikey revoke --id ID")
		return fmt.Errorf("unknown apikey command")
	}
	fs := newFlags("apikey "+args[0], "create or revoke API keys; a new key is printed on the last line, shown once", stderr)
	platform := fs.Bool("platform", false, "a platform key (sk_...): acts on any account")
	account := fs.String("account", "", "an account key (ak_...) for this account id")
	name := fs.String("name", "", "a name to recognise the key by")
	id := fs.String("id", "", "the key id to revoke (key_...)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	a, err := openTool(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	op := billing.Op{Actor: billing.CLIActor(getenv("USER")), Reason: "portal apikey " + args[0]}
	if args[0] == "revoke" {
		if err := a.svc.RevokeKey(ctx, *id, op); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s\n", *id)
		return nil
	}
	if *platform == (*account != "") {
		return fmt.Errorf("pass exactly one of --platform or --account ID")
	}
	k, raw, err := a.svc.CreateAccountKey(ctx, *account, *name, op) // a platform key without --account
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s key %s (%s), prefix %s; store it now, it is not shown again:\n%s\n", k.Kind, k.ID, k.Name, k.Prefix, raw)
	return nil
}
