package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"creditline/billing/revenue"
)

// measureRevenue times the revenue consumer's catch-up over the whole seeded ledger (the
// backlog a deploy of migration 0023 meets), then the month's report and margin read from
// the rollups, n times each.
func measureRevenue(ctx context.Context, out io.Writer, rev *revenue.Service, n int) error {
	start := time.Now()
	entries, err := rev.CatchUp(ctx)
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(out, "revenue catch-up: %d ledger entries in %s (%.0f entries/s)\n", entries, took.Round(time.Millisecond),
		float64(entries)/took.Seconds())
	month := rev.Now()
	for _, m := range []struct {
		name string
		fn   func() error
	}{
		{"revenue report, one month", func() error { _, err := rev.Month(ctx, month); return err }},
		{"revenue report, 12 months", func() error { _, err := rev.Months(ctx, month, revenue.ReportMonths); return err }},
		{"margin, one month", func() error { _, err := rev.MarginOf(ctx, month); return err }},
	} {
		var ds []time.Duration
		for i := -3; i < n; i++ {
			t0 := time.Now()
			if err := m.fn(); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			if i >= 0 {
				ds = append(ds, time.Since(t0))
			}
		}
		slices.Sort(ds)
		fmt.Fprintf(out, "%-30s p50 %.2f ms, p95 %.2f ms, max %.2f ms (%d calls, service only)\n", m.name,
			ms(ds[len(ds)/2]), ms(ds[len(ds)*95/100]), ms(ds[len(ds)-1]), n)
	}
	return nil
}
