package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"testing"

	"creditline/store"
	"creditline/store/pgtest"
)

// TestAPIKeyCommandIsAudited: portal apikey create and revoke each write one audit entry as
// the command run by the operating-system user, on the key's account; revoking twice writes
// one entry.
func TestAPIKeyCommandIsAudited(t *testing.T) {
	url := pgtest.URL(t)
	e := env(map[string]string{"DATABASE_URL": url, "USER": "ops"})
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO accounts (id, name) VALUES ('acc_cli_audit', 'CLI audit')`); err != nil {
		t.Fatal(err)
	}
	keyID := regexp.MustCompile(`key_[0-9a-z]+`)
	create := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, append([]string{"apikey", "create", "--name", "cli test"}, args...), e, &out, io.Discard); err != nil {
			t.Fatalf("apikey create %v: %v", args, err)
		}
		return keyID.FindString(out.String())
	}
	type row struct {
		Action    string  `db:"action"`
		ActorKind string  `db:"actor_kind"`
		ActorID   string  `db:"actor_id"`
		Account   *string `db:"account_id"`
	}
	entries := func(key string) []row {
		t.Helper()
		var rs []row
		if err := db.Select(&rs, `SELECT action, actor_kind, actor_id, account_id FROM audit_log
			WHERE coalesce(after, before) ->> 'id' = $1 ORDER BY id`, key); err != nil {
			t.Fatal(err)
		}
		return rs
	}
	for _, tc := range []struct {
		args    []string
		account *string
	}{{[]string{"--account", "acc_cli_audit"}, ptr("acc_cli_audit")}, {[]string{"--platform"}, nil}} {
		k := create(tc.args...)
		for i := 0; i < 2; i++ {
			err := run(ctx, []string{"apikey", "revoke", "--id", k}, e, io.Discard, io.Discard)
			if (err != nil) != (i == 1) {
				t.Fatalf("revoke %s, time %d: %v", k, i+1, err)
			}
		}
		rs := entries(k)
		if len(rs) != 2 || rs[0].Action != "api_key.create" || rs[1].Action != "api_key.revoke" {
			t.Fatalf("audit of %s: %+v, want one create and one revoke", k, rs)
		}
		for _, r := range rs {
			if r.ActorKind != "cli" || r.ActorID != "ops" || (r.Account == nil) != (tc.account == nil) ||
				(r.Account != nil && *r.Account != *tc.account) {
				t.Fatalf("audit of %s: %+v, want actor cli:ops on account %v", k, r, tc.account)
			}
		}
	}
}

func ptr(s string) *string { return &s }
