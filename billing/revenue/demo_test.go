package revenue_test

import (
	"context"
	"testing"

	"creditline/billing"
	"creditline/billing/revenue"
	"creditline/store"
	"creditline/store/pgtest"
)

// TestDemoSeedHasRevenueHistory: the demo's paid grants are real (not test mode), so its
// twelve months show cash, recognised revenue and breakage, the identity holds, the margin
// has this month's actions, and seeding twice changes nothing.
func TestDemoSeedHasRevenueHistory(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Fresh(t)
	st := store.New(db)
	svc := billing.NewService(st, billing.Options{})
	rev := revenue.New(st.Revenue(), svc.Now)
	for range 2 {
		if _, err := svc.SeedDemo(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if vs, err := svc.Verify(ctx); err != nil || len(vs) > 0 {
		t.Fatalf("verify: %v %v", vs, err)
	}
	r, err := rev.Months(ctx, svc.Now(), revenue.ReportMonths)
	if err != nil {
		t.Fatal(err)
	}
	rows := r.ByCurrency["usd"]
	if len(rows) != 12 {
		t.Fatalf("%d usd months", len(rows))
	}
	var breakage int64
	for _, m := range rows {
		if m.Cash <= 0 || m.Recognised <= 0 {
			t.Errorf("%s: cash %d, recognised %d", m.Month.Format("2006-01"), m.Cash, m.Recognised)
		}
		if m.Opening+m.Cash-m.Recognised-m.Breakage-m.Refunds != m.Closing {
			t.Errorf("%s: identity broken", m.Month.Format("2006-01"))
		}
		breakage += m.Breakage
	}
	if breakage <= 0 {
		t.Error("no breakage in a year of expiring packs")
	}
	// Pro: an allotment and a pack each month, a recharge every third; Nova: a pack a month.
	var history int
	if err := db.Get(&history, `SELECT count(*) FROM grants WHERE reason LIKE 'demo history%' AND NOT test_mode`); err != nil || history != 11*2+3+11 {
		t.Errorf("%d history grants (%v), want %d", history, err, 11*2+3+11)
	}
	m, err := rev.MarginOf(ctx, svc.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Rows) < 3 || m.VendorCost <= 0 || m.RevenueUSD <= 0 {
		t.Errorf("margin: %d rows, cost %d, revenue %d", len(m.Rows), m.VendorCost, m.RevenueUSD)
	}
}
