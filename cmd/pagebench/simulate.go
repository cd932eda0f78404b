package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"creditline/billing"
	"creditline/billing/simulate"
	"creditline/store"
)

// benchSimulation times the price book impact simulation over every event of the last 30
// days (a draft raising gpt-4o output 20%), three runs, beside a count(*) of the same rows
// as the same-run baseline, and the peak heap growth (the events are streamed, not loaded).
func benchSimulation(ctx context.Context, out io.Writer, svc *billing.Service, st *store.Store) error {
	draft, err := svc.CreatePriceDraft(ctx, "pagebench")
	if err != nil {
		return err
	}
	d := draft.Book.Data()
	i := slices.IndexFunc(d.Rates, func(r billing.Rate) bool { return r.ID == "chat-gpt-4o" })
	if i < 0 {
		return fmt.Errorf("no chat-gpt-4o rate in the demo book")
	}
	d.Rates[i].Components[1].Price = d.Rates[i].Components[1].Price * 12 / 10
	if draft, err = svc.SetDraftRate(ctx, draft.ID, d.Rates[i]); err != nil {
		return err
	}
	target, err := svc.TargetMargin(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	start := time.Now()
	n, err := st.CountUsage(ctx, now.Add(-simulate.Window), now)
	if err != nil {
		return err
	}
	baseline := time.Since(start)
	fmt.Fprintf(out, "simulate: baseline count(*) of %d events in 30 days: %s\n", n, baseline.Round(time.Millisecond))
	for run := 1; run <= 3; run++ {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		peak := before.HeapAlloc
		stop := make(chan struct{})
		go func() { // sample the heap while it runs
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					peak = max(peak, m.HeapAlloc)
				}
			}
		}()
		start = time.Now()
		res, err := simulate.Run(ctx, st, draft.Book, target, time.Now(), nil)
		took := time.Since(start)
		close(stop)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "simulate run %d: %d events re-priced in %s (%.0f events/s, %.1f× the count), revenue %s → %s credits, margin %d.%d%% → %d.%d%%, heap peak +%d MiB\n",
			run, res.Events, took.Round(time.Millisecond), float64(res.Events)/took.Seconds(), took.Seconds()/baseline.Seconds(),
			res.Before.Credits.Display(), res.After.Credits.Display(), res.Before.MarginPermille/10, res.Before.MarginPermille%10,
			res.After.MarginPermille/10, res.After.MarginPermille%10, (peak-before.HeapAlloc)>>20)
	}
	return nil
}
