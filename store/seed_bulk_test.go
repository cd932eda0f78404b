package store_test

import (
	"context"
	"testing"

	"creditline/billing"
	"creditline/store"
	"creditline/store/pgtest"
)

// TestBulkUsageKeepsTheLedgerClean writes bulk events in more than one chunk and checks every
// invariant, the rollups and that the balance ends where it started.
func TestBulkUsageKeepsTheLedgerClean(t *testing.T) {
	db := pgtest.Fresh(t)
	ctx := context.Background()
	st := store.New(db)
	svc := billing.NewService(st, billing.Options{PasswordCost: 4})
	if _, err := svc.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := st.UserByEmail(ctx, "demo@creditline.test")
	if err != nil {
		t.Fatal(err)
	}
	acc, _, err := svc.AccountForUser(ctx, u.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	before, err := svc.Balance(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 2_345 // three chunks of 1,000
	res, err := st.SeedBulkUsage(ctx, svc, acc.ID, n, 1_000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != n || res.Credits <= 0 {
		t.Fatalf("result %+v", res)
	}
	if vs, err := svc.Verify(ctx); err != nil || len(vs) != 0 {
		t.Fatalf("verify: %v %v", err, vs)
	}
	after, err := svc.Balance(ctx, acc.ID)
	if err != nil || after.Balance != before.Balance {
		t.Fatalf("balance %s → %s (%v)", before.Balance, after.Balance, err)
	}
	var events, rolled int64
	var sum, rollSum billing.Credits
	if err := db.QueryRowContext(ctx, `SELECT count(*), sum(credits) FROM usage_events WHERE account_id = $1 AND idempotency_key LIKE 'bulk-%'`, acc.ID).Scan(&events, &sum); err != nil {
		t.Fatal(err)
	}
	if events != int64(n) || sum != res.Credits {
		t.Fatalf("%d bulk events for %s credits, want %d for %s", events, sum, n, res.Credits)
	}
	if err := db.QueryRowContext(ctx, `SELECT sum(events), sum(credits) FROM usage_daily WHERE account_id = $1`, acc.ID).Scan(&rolled, &rollSum); err != nil {
		t.Fatal(err)
	}
	var all int64
	var allSum billing.Credits
	if err := db.QueryRowContext(ctx, `SELECT count(*), sum(credits) FROM usage_events WHERE account_id = $1`, acc.ID).Scan(&all, &allSum); err != nil {
		t.Fatal(err)
	}
	if rolled != all || rollSum != allSum {
		t.Fatalf("rollups %d/%s, events %d/%s", rolled, rollSum, all, allSum)
	}
	// Every bulk event lies within the last 30 days and has its own debit of the same amount.
	var outside int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM usage_events u JOIN debits d ON d.id = u.debit_id
		WHERE u.account_id = $1 AND (u.occurred_at < now() - interval '30 days' OR u.occurred_at > now() OR d.amount <> u.credits)`, acc.ID).Scan(&outside); err != nil {
		t.Fatal(err)
	}
	if outside != 0 {
		t.Fatalf("%d events outside the window or off their debit", outside)
	}
	// The dashboard reads it: the overview and a usage page.
	if _, err := svc.Overview(ctx, acc); err != nil {
		t.Fatal(err)
	}
	if l, err := svc.UsageListing(ctx, billing.UsageFilter{AccountID: acc.ID}, true); err != nil || l.Summary.Events != all || !l.More {
		t.Fatalf("listing %+v %v", l.Summary, err)
	}
}
