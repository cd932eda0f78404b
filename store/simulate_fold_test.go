package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/simulate"
	"creditline/store"
)

// TestFoldUnderConcurrentDebits: folds run by two "instances" while debits land in the days
// being folded; at every point the simulation equals every event priced again, and the
// rollup ends with each event counted once.
func TestFoldUnderConcurrentDebits(t *testing.T) {
	ctx := context.Background()
	svc, db := seeded(t)
	st := store.New(db)
	var accs []string
	for i, plan := range []string{"free", "pro"} {
		a, err := svc.CreateAccount(ctx, billing.CreateAccountInput{Name: fmt.Sprintf("fold %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.SetPlan(ctx, a.ID, plan); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Grant(ctx, billing.GrantInput{AccountID: a.ID, Source: "purchase", Amount: billing.MustCredits("1000000"), Reason: "test"}); err != nil {
			t.Fatal(err)
		}
		accs = append(accs, a.ID)
	}
	draft := draftWithInputRate(t, svc, "3")
	d := draft.Book.Data()
	i := slices.IndexFunc(d.Rates, func(r billing.Rate) bool { return r.ID == "video" })
	d.Rates[i].Components[0].Price = billing.MustCredits("1.5")
	if draft, _ = svc.SetDraftRate(ctx, draft.ID, d.Rates[i]); draft.Book == nil {
		t.Fatal("saving the video rate failed")
	}
	simNow := noon.Add(2 * 24 * time.Hour)

	var charged atomic.Int64
	charge := func(w, n int) error {
		for k := range n {
			acc, u := accs[0], billing.UsageInput{Action: "video.generate", Quantities: map[string]billing.Quantity{"seconds": billing.Count(int64(1 + k%5))}}
			if (w+k)%2 == 1 {
				acc, u = accs[1], billing.UsageInput{Action: "chat.completion", Attributes: map[string]string{"model": "gpt-4o"},
					Quantities: map[string]billing.Quantity{"input_tokens": billing.Count(int64(100 * (1 + k%7))), "output_tokens": billing.Count(50)}}
			}
			at := noon.Add(-time.Duration((w*7+k)%30)*24*time.Hour - time.Duration(k%24)*time.Hour - time.Minute)
			u.AccountID, u.OccurredAt, u.IdempotencyKey = acc, &at, fmt.Sprintf("fold-%d-%d", w, k)
			if _, err := svc.ChargeUsage(ctx, u); err != nil {
				return err
			}
			charged.Add(1)
		}
		return nil
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- charge(w, 40) }()
	}
	var folders sync.WaitGroup
	var folds atomic.Int64
	for range 2 {
		folders.Add(1)
		go func() {
			defer folders.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := simulate.Fold(ctx, st, simNow); err != nil {
					errs <- err
					return
				}
				folds.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	folders.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if folds.Load() < 2 {
		t.Fatalf("only %d folds ran beside the debits", folds.Load())
	}
	n := int(charged.Load())
	checkSimulation(t, svc, st, draft.Book, accs, simNow, n, "after concurrent folds") // the last debits may postdate the last fold
	if _, err := simulate.Fold(ctx, st, simNow); err != nil {
		t.Fatal(err)
	}
	checkSimulation(t, svc, st, draft.Book, accs, simNow, n, "folded")
	var rolled, recorded int64
	if err := db.Get(&rolled, `SELECT COALESCE(sum(events), 0) FROM usage_price_inputs`); err != nil {
		t.Fatal(err)
	}
	// The fold keeps the days of the window before today's.
	if err := db.Get(&recorded, `SELECT count(*) FROM usage_events WHERE occurred_at >= $1 AND occurred_at < $2`,
		simNow.Add(-simulate.Window).Truncate(24*time.Hour), simNow.Truncate(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if rolled != recorded {
		t.Errorf("the rollup holds %d events, usage_events %d in the days it keeps", rolled, recorded)
	}
}
