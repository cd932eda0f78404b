package ledgertest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"creditline/billing"
	"creditline/store"
	"creditline/store/pgtest"
)

// TestScheduledPublishSwitchesAtItsInstant: a version published to take effect at T prices
// every event from T on and none before, while debits run concurrently and the clock
// crosses T; each event is priced wholly by the version it records.
func TestScheduledPublishSwitchesAtItsInstant(t *testing.T) {
	ctx := context.Background()
	// A database of its own: the version it publishes would reprice the other tests' events.
	db := pgtest.Fresh(t)
	clk := &clock{t: time.Now().UTC().Truncate(time.Millisecond)}
	e := &env{t: t, db: db, store: store.New(db), clock: clk}
	e.svc = billing.NewService(e.store, billing.Options{Now: clk.Now})
	t.Cleanup(e.verify)
	if err := e.svc.SeedCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(-e.clock.Now().Sub(e.clock.Now().Truncate(time.Second))) // whole second: T below is exact
	switchAt := e.clock.Now().Add(time.Second)
	draft, err := e.svc.CreatePriceDraft(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	d := draft.Book.Data()
	video := d.Rates[slices.IndexFunc(d.Rates, func(r billing.Rate) bool { return r.ID == "video" })]
	video.Components[0].Price = c("3")
	if _, err := e.svc.SetDraftRate(ctx, draft.ID, video); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.PublishPriceDraft(ctx, draft.ID, billing.PublishOptions{EffectiveAt: switchAt},
		billing.Op{Actor: billing.UserActor("usr_ops"), Reason: "video up"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(switchAt.Sub(e.clock.Now()) - 40*time.Millisecond)

	accs := []string{e.account(), e.account(), e.account(), e.account()}
	for _, a := range accs {
		e.grant(a, "100000")
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() { // the clock crosses T while the debits run
		for i := 0; i < 80; i++ {
			select {
			case <-stop:
				return
			default:
			}
			e.clock.Advance(time.Millisecond)
			time.Sleep(200 * time.Microsecond)
		}
	}()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				in := billing.UsageInput{AccountID: accs[w%len(accs)], Action: "video.generate",
					Quantities: map[string]billing.Quantity{"seconds": billing.Count(3)}, IdempotencyKey: key()}
				if i%2 == 1 { // dated explicitly, 20 ms either side of T
					at := switchAt.Add(time.Duration(i-20) * time.Millisecond)
					in.OccurredAt = &at
				}
				if _, err := e.svc.ChargeUsage(ctx, in); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(stop)

	seen := map[int]int{}
	for _, a := range accs {
		events, err := e.svc.UsagePage(ctx, billing.UsageFilter{AccountID: a, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			want, wantCredits := 1, c("6")
			if !ev.OccurredAt.Before(switchAt) {
				want, wantCredits = 2, c("9")
			}
			book, err := e.svc.Live().Version(ev.PriceVersion)
			if err != nil {
				t.Fatal(err)
			}
			q, err := book.Price(billing.PriceRequest{Action: ev.Action, Quantities: ev.Quantities, Attributes: ev.Attributes, At: ev.OccurredAt})
			if err != nil {
				t.Fatal(err)
			}
			if ev.PriceVersion != want || ev.Credits != wantCredits || q.Credits != ev.Credits || ev.Breakdown.Total != ev.Credits {
				t.Errorf("event at %s: version %d, %s credits (breakdown %s; its version prices %s); want version %d, %s",
					ev.OccurredAt.Sub(switchAt), ev.PriceVersion, ev.Credits, ev.Breakdown.Total, q.Credits, want, wantCredits)
			}
			seen[ev.PriceVersion]++
		}
	}
	if seen[1] == 0 || seen[2] == 0 || seen[1]+seen[2] != 320 {
		t.Errorf("events by version = %v; want both versions among 320 events", seen)
	}
}
