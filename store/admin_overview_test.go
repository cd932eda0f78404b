package store_test

import (
	"context"
	"testing"
	"time"

	"creditline/store"
	"creditline/store/pgtest"
)

// TestCashLeavesTestModeOut: a payment made through the test-mode provider moved no money, so
// neither the admin overview's cash in nor the revenue figures count it.
func TestCashLeavesTestModeOut(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	now := time.Now().UTC()
	for _, q := range []string{
		`INSERT INTO accounts (id, name) VALUES ('acc_cash', 'cash')`,
		`INSERT INTO payments (id, account_id, kind, ref, description, amount, currency, status, created_at, test_mode)
			VALUES ('pay_live', 'acc_cash', 'pack', 'cs_live', 'Growth', 4500, 'usd', 'succeeded', now(), false),
			       ('pay_test', 'acc_cash', 'pack', 'cs_test', 'Scale', 8000, 'usd', 'succeeded', now(), true)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	st := store.New(db)
	day := now.Truncate(24 * time.Hour)
	cash, err := st.CashByCurrency(ctx, day.AddDate(0, 0, -day.Day()+1), day)
	if err != nil {
		t.Fatal(err)
	}
	if len(cash) != 1 || cash[0].Month != 4500 || cash[0].Today != 4500 {
		t.Errorf("cash by currency = %+v, want only the live 45.00", cash)
	}
	got, err := st.CashReceived(ctx, day.AddDate(0, 0, -1), now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Amount != 4500 {
		t.Errorf("cash received = %+v, want only the live 45.00", got)
	}
}
