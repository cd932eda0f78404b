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

// TestVerifyReportsExtremeValues writes values at the ends of bigint straight into a database
// (as rows from before the bounds, or a hand edit, could hold) and expects verify to name the
// accounts and exit non-zero: it used to fail on scanning a sum past int64.
func TestVerifyReportsExtremeValues(t *testing.T) {
	db := pgtest.Fresh(t)
	var name string
	if err := db.Get(&name, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// Any value a bigint can hold: take the bounds of migration 0010 away first.
	exec(`DO $$ DECLARE c record; BEGIN
		FOR c IN SELECT conrelid::regclass AS t, conname FROM pg_constraint WHERE conname LIKE '%\_bound' LOOP
			EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.t, c.conname);
		END LOOP; END $$`)
	const max, min = "9223372036854775807", "-9223372036854775808"
	exec(`INSERT INTO accounts (id, name, balance, overdraft_limit) VALUES ('acc_extreme_top', 'top', ` + max + `, ` + max + `),
		('acc_extreme_bottom', 'bottom', ` + min + `, 0), ('acc_extreme_spent', 'spent', 0, 0)`)
	// Two full grants of int64's largest amount: their sum (the account's balance) passes int64.
	exec(`INSERT INTO grants (id, account_id, source, amount, remaining, priority, effective_at, actor, created_at) VALUES
		('grt_extreme_1', 'acc_extreme_top', 'promo', ` + max + `, ` + max + `, 10, now(), 't', now()),
		('grt_extreme_2', 'acc_extreme_top', 'promo', ` + max + `, ` + max + `, 10, now(), 't', now())`)
	exec(`INSERT INTO ledger_entries (account_id, grant_id, kind, amount, balance_after, actor, created_at) VALUES
		('acc_extreme_top', 'grt_extreme_1', 'grant', ` + max + `, ` + max + `, 't', now()),
		('acc_extreme_top', 'grt_extreme_2', 'grant', ` + max + `, ` + max + `, 't', now()),
		('acc_extreme_bottom', NULL, 'debit', ` + min + `, ` + min + `, 't', now())`)
	exec(`INSERT INTO debits (id, account_id, idempotency_key, amount, requested, balance_after, available_after, actor, created_at) VALUES
		('deb_extreme', 'acc_extreme_spent', 'k', ` + max + `, ` + max + `, ` + min + `, ` + min + `, 't', now())`)
	exec(`INSERT INTO ledger_entries (account_id, debit_id, kind, amount, balance_after, actor, created_at) VALUES
		('acc_extreme_spent', 'deb_extreme', 'debit', ` + min + `, 0, 't', now()),
		('acc_extreme_spent', 'deb_extreme', 'debit', ` + min + `, 0, 't', now())`)

	var out bytes.Buffer
	err = run(context.Background(), []string{"verify"}, env(map[string]string{"DATABASE_URL": u.String()}), &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "invariant violations") {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"account acc_extreme_top: invariant 1: grant grt_extreme_1: amount 9223372036854775.807 outside the bounds",
		"account acc_extreme_top: invariant 2: cached balance 9223372036854775.807 != grants remaining 18446744073709551.614 - debt 0",
		"account acc_extreme_bottom: invariant 2:",
		"balance -9223372036854775.808 outside the bounds",
		"account acc_extreme_spent: invariant 3: debit deb_extreme: allocations 18446744073709551.616 != credits 9223372036854775.807",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("verify output lacks %q:\n%s", want, out.String())
		}
	}
}
