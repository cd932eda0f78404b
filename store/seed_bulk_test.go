package store_test

import (
	"context"
	"strconv"
	"testing"

	"creditline/billing"
	"creditline/store"
	"creditline/store/pgtest"
	"github.com/lib/pq"
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

// TestBulkAccountsKeepTheLedgerClean bulk-loads accounts over more than one statement's
// chunk boundary and checks every invariant, their balances, rules and that they take debits.
func TestBulkAccountsKeepTheLedgerClean(t *testing.T) {
	db := pgtest.Fresh(t)
	ctx := context.Background()
	st := store.New(db)
	svc := billing.NewService(st, billing.Options{PasswordCost: 4})
	if err := svc.SeedCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	tpl, err := svc.CreateAccount(ctx, billing.CreateAccountInput{Name: "template"})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := st.ListAlertRules(ctx, tpl.ID)
	if err != nil || len(rules) == 0 {
		t.Fatalf("template rules: %v %v", rules, err)
	}
	n := store.BulkAccountsChunk + 3
	ids, err := st.SeedBulkAccounts(ctx, store.BulkAccounts{N: n, Prefix: "bulk", Plan: "free", Credits: billing.MustCredits("25"),
		Rules: rules, Now: svc.Now()}, nil)
	if err != nil || len(ids) != n {
		t.Fatalf("%d ids, %v", len(ids), err)
	}
	if vs, err := svc.Verify(ctx); err != nil || len(vs) != 0 {
		t.Fatalf("verify: %v %v", err, vs[:min(len(vs), 5)])
	}
	last := ids[n-1]
	b, err := svc.Balance(ctx, last)
	if err != nil || b.Balance != billing.MustCredits("25") {
		t.Fatalf("last account: %+v %v", b, err)
	}
	got, err := st.ListAlertRules(ctx, last)
	if err != nil || len(got) != len(rules) {
		t.Fatalf("last account has %d rules (%v), want %d", len(got), err, len(rules))
	}
	if a, err := svc.AccountSnapshot(ctx, "external:bulk-"+strconv.Itoa(n-1)); err != nil || a.ID != last {
		t.Fatalf("external id of the last account: %+v %v", a, err)
	}
	if _, err := svc.Debit(ctx, billing.DebitInput{AccountID: ids[0], Amount: billing.MustCredits("5"), IdempotencyKey: "k"}); err != nil {
		t.Fatal(err)
	}
	if vs, err := svc.Verify(ctx); err != nil || len(vs) != 0 {
		t.Fatalf("verify after a debit: %v %v", err, vs)
	}

	// Pages were left room (migration 0029): the first rewrite of a bulk-loaded account and of
	// its grant, as every debit makes, stays in its page (HOT) instead of adding an entry to
	// every index of the table.
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // counted, then undone
	var some []string   // one account in 20: as traffic spreads them, not every row of a page at once
	for i := 1; i < len(ids); i += 20 {
		some = append(some, ids[i])
	}
	if _, err := tx.ExecContext(ctx, `UPDATE accounts SET balance = balance - 1 WHERE id = ANY($1)`, pq.Array(some)); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE grants SET remaining = remaining - 1 WHERE account_id = ANY($1)`, pq.Array(some)); err != nil {
		t.Fatal(err)
	}
	var accHot, grantHot int
	if err := tx.QueryRowxContext(ctx, `SELECT pg_stat_get_xact_tuples_hot_updated('accounts'::regclass),
		pg_stat_get_xact_tuples_hot_updated('grants'::regclass)`).Scan(&accHot, &grantHot); err != nil {
		t.Fatal(err)
	}
	// (The counts may include an earlier transaction of this connection not yet reported: the
	// debit above. Without room, 1 of the 1,251 was heap-only.)
	if accHot < len(some) || grantHot < len(some) {
		t.Fatalf("heap-only updates: %d of %d accounts, %d of %d grants; want all", accHot, len(some), grantHot, len(some))
	}
}
