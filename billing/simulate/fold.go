package simulate

import (
	"context"
	"log/slog"
	"time"
)

// FoldBatch is what one fold transaction did: slices rebuilt and the events they hold.
type FoldBatch struct {
	Slices int
	Events int64
}

// FoldStore keeps the price-input rollup the simulation reads (migration 0025); implemented in
// package store.
type FoldStore interface {
	// FoldPriceInputs rebuilds up to max slices (account, UTC day, action, model) of the days
	// [from, to) whose events changed since they were folded, from one snapshot, and forgets
	// the days before from; ok is false (and nothing is done) while another instance folds.
	FoldPriceInputs(ctx context.Context, from, to time.Time, max int, now time.Time) (b FoldBatch, ok bool, err error)
}

// FoldSlices is how many slices one fold transaction rebuilds at most.
const FoldSlices = 500

// Fold brings the rollup up to date for the days of the window before today (UTC): today's
// events, which keep arriving, are read from usage_events by the simulation itself, so each
// day is folded about once. Correctness never depends on it: a slice changed since its fold is
// read from the events. It never writes the ledger.
func Fold(ctx context.Context, st FoldStore, now time.Time) (FoldBatch, error) {
	today := now.UTC().Truncate(24 * time.Hour)
	from := now.Add(-Window).UTC().Truncate(24 * time.Hour)
	var total FoldBatch
	for {
		b, ok, err := st.FoldPriceInputs(ctx, from, today, FoldSlices, now)
		if err != nil || !ok {
			return total, err
		}
		total.Slices += b.Slices
		total.Events += b.Events
		if b.Slices < FoldSlices {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// FoldLoop folds every interval until ctx ends, logging failures (the next turn retries).
func FoldLoop(ctx context.Context, st FoldStore, now func() time.Time, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		start := time.Now()
		b, err := Fold(ctx, st, now())
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("price-input fold failed", "err", err)
		case b.Slices > 0:
			log.Info("price inputs folded", "slices", b.Slices, "events", b.Events, "ms", time.Since(start).Milliseconds())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
