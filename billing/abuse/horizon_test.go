package abuse_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/abuse"
)

// folded says whether the fold has seen the grant (it keeps fresh grants by id).
func (e *env) folded(t *testing.T, grantID string) bool {
	t.Helper()
	var n int
	if err := e.db.GetContext(e.ctx, &n, `SELECT count(*) FROM abuse_fresh_grants WHERE grant_id = $1`, grantID); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// TestFoldWaitsForALateCommit: a transaction draws a ledger id and stays open while a later id
// commits and ages far past any time lag. A run neither folds the later entry past the open
// one nor fails; once the open transaction commits, the next run folds both (a cursor moved
// past the later id would have skipped the earlier one for good).
func TestFoldWaitsForALateCommit(t *testing.T) {
	e := newEnv(t)
	det := abuse.New(e.svc, e.st.Abuse(), abuse.Options{WaitWriters: 300 * time.Millisecond})
	acc, err := e.svc.CreateAccount(e.ctx, billing.CreateAccountInput{Name: "Late", Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	late, err := e.db.BeginTxx(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Rollback() //nolint:errcheck
	if _, err := late.ExecContext(e.ctx, `INSERT INTO grants (id, account_id, source, amount, remaining, priority, effective_at, actor, created_at)
		VALUES ('grt_late', $1, 'purchase', 50000, 50000, 0, $2, 'test', $2)`, acc.ID, now); err != nil {
		t.Fatal(err)
	}
	var lateID int64
	if err := late.GetContext(e.ctx, &lateID, `INSERT INTO ledger_entries (account_id, grant_id, kind, amount, balance_after, actor, created_at)
		VALUES ($1, 'grt_late', 'grant', 50000, 50000, 'test', $2) RETURNING id`, acc.ID, now); err != nil {
		t.Fatal(err)
	}
	g, err := e.svc.Grant(e.ctx, billing.GrantInput{AccountID: acc.ID, Source: "purchase", Amount: 30 * billing.Credit,
		PaidAmount: 300, Currency: "usd", Actor: "test", Reason: "later", IdempotencyKey: "later"})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Minute) // far past the old 30 s lag
	rep, err := det.Run(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Waiting || e.folded(t, g.Grant.ID) {
		t.Fatalf("folded past a writer still running (id %d): %+v, later grant folded %v", lateID, rep, e.folded(t, g.Grant.ID))
	}
	if err := late.Commit(); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if rep, err = det.Run(e.ctx); err != nil {
		t.Fatal(err)
	}
	if rep.Waiting || !e.folded(t, "grt_late") || !e.folded(t, g.Grant.ID) {
		t.Fatalf("after the commit: %+v, late folded %v, later folded %v", rep, e.folded(t, "grt_late"), e.folded(t, g.Grant.ID))
	}
}

// TestFoldCountsEveryEventOnceUnderLoad: debits from many goroutines while the detectors run
// over and over; in the end the hourly rollup holds exactly the usage events recorded.
func TestFoldCountsEveryEventOnceUnderLoad(t *testing.T) {
	e := newEnv(t)
	var accs []string
	for i := range 4 {
		acc, err := e.svc.CreateAccount(e.ctx, billing.CreateAccountInput{Name: fmt.Sprint("Load ", i), Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Grant(e.ctx, billing.GrantInput{AccountID: acc.ID, Source: "promo", Amount: 100_000 * billing.Credit,
			Actor: "test", Reason: "load", IdempotencyKey: "load"}); err != nil {
			t.Fatal(err)
		}
		accs = append(accs, acc.ID)
	}
	stop := make(chan struct{})
	runs := 0
	var runErr error
	var wgRun sync.WaitGroup
	wgRun.Add(1)
	go func() {
		defer wgRun.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := e.det.Run(e.ctx); err != nil {
				runErr = err
				return
			}
			runs++
		}
	}()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				at := e.clock.Now()
				_, err := e.svc.ChargeUsageBatch(e.ctx, []billing.UsageInput{{AccountID: accs[(w+i)%len(accs)], Action: "chat.completion",
					Attributes: map[string]string{"model": "small-open"}, IdempotencyKey: fmt.Sprintf("load-%d-%d", w, i), OccurredAt: &at,
					Quantities: map[string]billing.Quantity{"input_tokens": billing.Count(100), "output_tokens": billing.Count(50)}}})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	wgRun.Wait()
	if runErr != nil {
		t.Fatal(runErr)
	}
	if _, err := e.det.Run(e.ctx); err != nil {
		t.Fatal(err)
	}
	var recorded, folded int64
	if err := e.db.GetContext(e.ctx, &recorded, `SELECT count(*) FROM usage_events`); err != nil {
		t.Fatal(err)
	}
	if err := e.db.GetContext(e.ctx, &folded, `SELECT COALESCE(sum(events), 0) FROM abuse_usage_hourly`); err != nil {
		t.Fatal(err)
	}
	if recorded != 320 || folded != recorded {
		t.Fatalf("%d usage events recorded, %d folded (%d runs during the load)", recorded, folded, runs)
	}
	t.Logf("%d detector runs during the load", runs)
}

// TestFoldKeepsOnlyDrainableGrants: the fold keeps a purchased grant as fresh and not a
// promotional one, which the drained-grant detector never looks at.
func TestFoldKeepsOnlyDrainableGrants(t *testing.T) {
	e := newEnv(t)
	acc, err := e.svc.CreateAccount(e.ctx, billing.CreateAccountInput{Name: "Sources", Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	promo, err := e.svc.Grant(e.ctx, billing.GrantInput{AccountID: acc.ID, Source: "promo", Amount: 50 * billing.Credit,
		Actor: "test", Reason: "welcome", IdempotencyKey: "promo"})
	if err != nil {
		t.Fatal(err)
	}
	paid, err := e.svc.Grant(e.ctx, billing.GrantInput{AccountID: acc.ID, Source: "purchase", Amount: 30 * billing.Credit,
		PaidAmount: 300, Currency: "usd", Actor: "test", Reason: "pack", IdempotencyKey: "paid"})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if _, err := e.det.Run(e.ctx); err != nil {
		t.Fatal(err)
	}
	if e.folded(t, promo.Grant.ID) || !e.folded(t, paid.Grant.ID) {
		t.Fatalf("fresh grants: promo kept %v (want false), purchase kept %v (want true)", e.folded(t, promo.Grant.ID), e.folded(t, paid.Grant.ID))
	}
}
