package store_test

import (
	"context"
	"slices"
	"testing"

	"creditline/store"
	"creditline/store/pgtest"
)

// TestMoneyBoundsInTheSchema: the schema refuses amounts the code refuses, and constraints
// added NOT VALID are validated after migrating, except where existing rows break them.
func TestMoneyBoundsInTheSchema(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	broken, err := store.ValidateConstraints(ctx, db)
	if err != nil || len(broken) != 0 {
		t.Fatalf("validate on a clean database: %v %v", broken, err)
	}
	var unvalidated int
	db.Get(&unvalidated, `SELECT count(*) FROM pg_constraint WHERE contype = 'c' AND NOT convalidated`)
	if unvalidated != 0 {
		t.Errorf("%d constraints left NOT VALID", unvalidated)
	}
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`INSERT INTO accounts (id, name) VALUES ('acc_bounds', 'bounds')`)
	defer db.Exec(`DELETE FROM accounts WHERE id = 'acc_bounds'`)
	for _, q := range []string{
		`UPDATE accounts SET balance = 1000000000000000001 WHERE id = 'acc_bounds'`,
		`UPDATE accounts SET overdraft_limit = 1000000000000001 WHERE id = 'acc_bounds'`,
		`UPDATE accounts SET spend_limit = 1000000000000001 WHERE id = 'acc_bounds'`,
		`INSERT INTO grants (id, account_id, source, amount, remaining, priority, effective_at, actor, created_at)
			VALUES ('grt_bounds', 'acc_bounds', 'promo', 1000000000000001, 0, 10, now(), 't', now())`,
		`INSERT INTO holds (id, account_id, amount, status, expires_at, idempotency_key, actor, created_at)
			VALUES ('hld_bounds', 'acc_bounds', 1000000000000001, 'active', now(), 'k', 't', now())`,
		`INSERT INTO ledger_entries (account_id, kind, amount, balance_after, actor, created_at)
			VALUES ('acc_bounds', 'grant', 9000000000000000000, 0, 't', now())`,
		`INSERT INTO debits (id, account_id, idempotency_key, amount, requested, balance_after, available_after, actor, created_at)
			VALUES ('deb_bounds', 'acc_bounds', 'k', 1000000000000001, 1000000000000001, 0, 0, 't', now())`,
	} {
		if _, err := db.Exec(q); err == nil {
			t.Errorf("accepted: %s", q)
		}
	}
	// Rows from before the bounds: the constraint stays NOT VALID and is reported, the others validate.
	mustExec(`ALTER TABLE accounts DROP CONSTRAINT accounts_overdraft_limit_bound`)
	mustExec(`UPDATE accounts SET overdraft_limit = 9000000000000000000 WHERE id = 'acc_bounds'`)
	mustExec(`ALTER TABLE accounts ADD CONSTRAINT accounts_overdraft_limit_bound CHECK (overdraft_limit <= 1000000000000000) NOT VALID`)
	broken, err = store.ValidateConstraints(ctx, db)
	if err != nil || !slices.Equal(broken, []string{"accounts.accounts_overdraft_limit_bound"}) {
		t.Errorf("validate with a legacy row: %v %v", broken, err)
	}
	mustExec(`UPDATE accounts SET overdraft_limit = 0 WHERE id = 'acc_bounds'`)
	if broken, err = store.ValidateConstraints(ctx, db); err != nil || len(broken) != 0 {
		t.Errorf("validate after the fix: %v %v", broken, err)
	}
}
