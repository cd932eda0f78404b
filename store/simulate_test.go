package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/pricing"
	"creditline/billing/simulate"
	"creditline/store"
)

// TestSimulationRevenueEqualsRepricedEvents: the simulation's totals equal the sums of the
// recorded events priced again, one by one, with the draft (computed here independently),
// events older than 30 days are left out, and nothing is written to the ledger.
func TestSimulationRevenueEqualsRepricedEvents(t *testing.T) {
	ctx := context.Background()
	svc, db := seeded(t)
	st := store.New(db)
	plans := []string{"free", "pro", "enterprise"}
	var accs []string
	for i, plan := range plans {
		a, err := svc.CreateAccount(ctx, billing.CreateAccountInput{Name: fmt.Sprintf("sim %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.SetPlan(ctx, a.ID, plan); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Grant(ctx, billing.GrantInput{AccountID: a.ID, Source: "purchase", Amount: billing.MustCredits("100000"), Reason: "test"}); err != nil {
			t.Fatal(err)
		}
		accs = append(accs, a.ID)
	}
	type use struct {
		action string
		attrs  map[string]string
		qs     map[string]billing.Quantity
		batch  bool
	}
	uses := []use{
		{"chat.completion", map[string]string{"model": "gpt-4o"}, map[string]billing.Quantity{"input_tokens": billing.Count(1234), "output_tokens": billing.Count(777)}, false},
		{"chat.completion", map[string]string{"model": "small-open"}, map[string]billing.Quantity{}, false},
		{"file.process", nil, map[string]billing.Quantity{"megabytes": billing.MustQuantity("12.5")}, false},
		{"video.generate", nil, map[string]billing.Quantity{"seconds": billing.Count(7)}, false},
		{"video.generate", nil, map[string]billing.Quantity{"seconds": billing.Count(3)}, true},
	}
	n := 0
	for day := 0; day < 30; day += 3 {
		for i, a := range accs {
			for j, u := range uses {
				if u.attrs["model"] == "gpt-4o" && i == 0 || u.batch && i != 2 || u.action == "video.generate" && !u.batch && i != 0 {
					continue // Free has no premium models; only Enterprise has batch; Pro makes no video
				}
				at := noon.Add(-time.Duration(day)*24*time.Hour - time.Duration(j+1)*time.Minute)
				_, err := svc.ChargeUsage(ctx, billing.UsageInput{AccountID: a, Action: u.action, Attributes: u.attrs, Quantities: u.qs,
					Batch: u.batch, OccurredAt: &at, IdempotencyKey: fmt.Sprintf("sim-%d-%d-%d", day, i, j)})
				if err != nil {
					t.Fatalf("%s day %d: %v", u.action, day, err)
				}
				n++
			}
		}
	}
	draft := draftWithInputRate(t, svc, "3")
	d := draft.Book.Data()
	i := slices.IndexFunc(d.Rates, func(r billing.Rate) bool { return r.ID == "video" })
	d.Rates[i].Components[0].Price = billing.MustCredits("1.5")
	if draft, _ = svc.SetDraftRate(ctx, draft.ID, d.Rates[i]); draft.Book == nil {
		t.Fatal("saving the video rate failed")
	}
	var ledgerBefore int
	if err := db.Get(&ledgerBefore, `SELECT count(*) FROM ledger_entries`); err != nil {
		t.Fatal(err)
	}

	simNow := noon.Add(4 * 24 * time.Hour) // the window leaves out the events of day 27
	res, err := simulate.Run(ctx, st, draft.Book, pricing.DefaultMarginTarget, simNow, nil)
	if err != nil {
		t.Fatal(err)
	}

	// Independently: every event within the window, priced again with the draft.
	var want struct{ events, before, after, cost int64 }
	perAccount := map[string][2]billing.Credits{}
	for _, a := range accs {
		acc, err := svc.AccountSnapshot(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := svc.Plan(ctx, acc.PlanKey)
		if err != nil {
			t.Fatal(err)
		}
		events, err := svc.UsagePage(ctx, billing.UsageFilter{AccountID: a, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			if ev.OccurredAt.Before(simNow.Add(-simulate.Window)) || !ev.OccurredAt.Before(simNow) {
				continue
			}
			q, err := draft.Book.Price(billing.PriceRequest{Action: ev.Action, Quantities: ev.Quantities, Attributes: ev.Attributes,
				PlanMultiplier: plan.Multiplier, Batch: ev.Batch, At: ev.OccurredAt})
			if err != nil {
				t.Fatal(err)
			}
			want.events++
			want.before += int64(ev.Credits)
			want.after += int64(q.Credits)
			want.cost += q.VendorCostMicroUSD
			p := perAccount[a]
			perAccount[a] = [2]billing.Credits{p[0] + ev.Credits, p[1] + q.Credits}
		}
	}
	if want.events == int64(n) || want.events == 0 {
		t.Fatalf("the window keeps %d of %d events; the test wants some left out", want.events, n)
	}
	if res.Events != want.events || int64(res.Before.Credits) != want.before || int64(res.After.Credits) != want.after ||
		res.After.CostMicroUSD != want.cost || res.Unpriced != 0 {
		t.Errorf("simulation: %d events, %s → %s credits, cost %d; computed %d events, %d → %d, cost %d",
			res.Events, res.Before.Credits, res.After.Credits, res.After.CostMicroUSD, want.events, want.before, want.after, want.cost)
	}
	if res.After.RevenueMicroUSD != want.after*100 { // a credit is $0.10: 100 µUSD a millicredit
		t.Errorf("revenue after = %d µUSD, want %d", res.After.RevenueMicroUSD, want.after*100)
	}
	var groupSum int64
	for _, g := range res.Groups {
		groupSum += int64(g.After.Credits)
	}
	if groupSum != want.after {
		t.Errorf("groups add up to %d, want %d", groupSum, want.after)
	}
	// Free's spend falls (video halves), Pro's rises (gpt-4o input up): one each way.
	if len(res.Increases) == 0 || len(res.Decreases) == 0 {
		t.Fatalf("increases %v, decreases %v", res.Increases, res.Decreases)
	}
	for _, c := range append(slices.Clone(res.Increases), res.Decreases...) {
		if p := perAccount[c.AccountID]; c.Before != p[0] || c.After != p[1] {
			t.Errorf("customer %s: %s → %s, computed %s → %s", c.AccountID, c.Before, c.After, p[0], p[1])
		}
	}
	var ledgerAfter int
	if err := db.Get(&ledgerAfter, `SELECT count(*) FROM ledger_entries`); err != nil || ledgerAfter != ledgerBefore {
		t.Errorf("ledger entries %d → %d: the simulation wrote", ledgerBefore, ledgerAfter)
	}
}
