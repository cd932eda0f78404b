package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"creditline/billing"
	"creditline/billing/simulate"
	"creditline/store"
)

// benchSimulation times the price book impact simulation over every event of the last 30
// days (a draft raising gpt-4o output 20%): once before the price-input rollup is folded,
// the fold, then three runs, beside a count(*) of usage_events as the same-run baseline,
// with the load average and the peak heap growth (the events are streamed, not loaded).
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
	start := time.Now()
	n, err := st.CountUsageEvents(ctx)
	if err != nil {
		return err
	}
	baseline := time.Since(start)
	fmt.Fprintf(out, "simulate: load average %s; baseline SELECT count(*) FROM usage_events (%d events): %s\n",
		loadAverage(), n, baseline.Round(time.Millisecond))
	// The simulation as it was before the rollup: every event of the window read and grouped.
	start = time.Now()
	res, err := simulate.Run(ctx, st, draft.Book, target, time.Now(), nil)
	if err != nil {
		return err
	}
	unfolded := time.Since(start)
	fmt.Fprintf(out, "simulate: nothing folded (every event read): %d events in %s (%.1f× the count)\n",
		res.Events, unfolded.Round(time.Millisecond), unfolded.Seconds()/baseline.Seconds())
	// Worst case first: the fold a day behind, so yesterday and today (more than a day of
	// events) are read from usage_events.
	start = time.Now()
	if _, err := simulate.Fold(ctx, st, time.Now().Add(-24*time.Hour)); err != nil {
		return err
	}
	fmt.Fprintf(out, "simulate: fold up to yesterday: %s\n", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if res, err = simulate.Run(ctx, st, draft.Book, target, time.Now(), nil); err != nil {
		return err
	}
	fmt.Fprintf(out, "simulate: yesterday and today unfolded: %d events in %s\n", res.Events, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	fb, err := simulate.Fold(ctx, st, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "simulate: fold of yesterday (the background job's daily work): %d slices, %d events in %s\n",
		fb.Slices, fb.Events, time.Since(start).Round(time.Millisecond))
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
		res, err = simulate.Run(ctx, st, draft.Book, target, time.Now(), nil)
		took := time.Since(start)
		close(stop)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "simulate run %d: %d events re-priced in %s (%.0f events/s, %.2f× the count, %.1f× faster than unfolded), revenue %s → %s credits, margin %d.%d%% → %d.%d%%, heap peak +%d MiB\n",
			run, res.Events, took.Round(time.Millisecond), float64(res.Events)/took.Seconds(), took.Seconds()/baseline.Seconds(), unfolded.Seconds()/took.Seconds(),
			res.Before.Credits.Display(), res.After.Credits.Display(), res.Before.MarginPermille/10, res.Before.MarginPermille%10,
			res.After.MarginPermille/10, res.After.MarginPermille%10, (peak-before.HeapAlloc)>>20)
	}
	return nil
}

// loadAverage is the machine's 1, 5 and 15 minute load (timings here are shared).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
