package main

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"strings"
	"testing"

	"creditline/store/pgtest"
)

// TestSeedBulk runs `portal seed --bulk` on its own database and then `portal verify`.
func TestSeedBulk(t *testing.T) {
	db := pgtest.Fresh(t)
	var name string
	if err := db.Get(&name, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name // the fresh database, not the package's shared one
	e := env(map[string]string{"DATABASE_URL": u.String()})
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"seed", "--bulk", "500"}, e, &out, io.Discard); err == nil || !strings.Contains(err.Error(), "seed --demo first") {
		t.Fatalf("bulk without the demo user: %v", err)
	}
	if err := run(ctx, []string{"seed", "--demo", "--bulk", "1500"}, e, &out, io.Discard); err != nil {
		t.Fatalf("seed: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "bulk: 1500 usage events") {
		t.Fatalf("output:\n%s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"verify"}, e, &out, io.Discard); err != nil || !strings.Contains(out.String(), "ledger ok") {
		t.Fatalf("verify after bulk: %v %s", err, out.String())
	}
}
