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
	charge := func(a string, u use, at time.Time, key string) {
		t.Helper()
		if _, err := svc.ChargeUsage(ctx, billing.UsageInput{AccountID: a, Action: u.action, Attributes: u.attrs, Quantities: u.qs,
			Batch: u.batch, OccurredAt: &at, IdempotencyKey: key}); err != nil {
			t.Fatalf("%s at %s: %v", u.action, at, err)
		}
	}

	// Nothing folded: every event is read from usage_events.
	simNow := noon.Add(4 * 24 * time.Hour) // the window leaves out the events of day 27
	checkSimulation(t, svc, st, draft.Book, accs, simNow, n, "unfolded")

	// Folded: the days before simNow's come from the rollup.
	b, err := simulate.Fold(ctx, st, simNow)
	if err != nil || b.Slices == 0 || b.Events == 0 {
		t.Fatalf("fold: %+v, %v", b, err)
	}
	checkSimulation(t, svc, st, draft.Book, accs, simNow, n, "folded")
	if again, err := simulate.Fold(ctx, st, simNow); err != nil || again.Slices != 0 {
		t.Errorf("a second fold with nothing new rebuilt %+v (%v)", again, err)
	}
	// The rollup is what is read for a folded slice: a change to it shows.
	before := mustRun(t, st, draft.Book, simNow)
	if _, err := db.Exec(`UPDATE usage_price_inputs SET credits = credits + 1 WHERE ctid = (SELECT min(ctid) FROM usage_price_inputs)`); err != nil {
		t.Fatal(err)
	}
	if r := mustRun(t, st, draft.Book, simNow); r.Before.Credits != before.Before.Credits+1 {
		t.Errorf("with a rollup row changed, before = %s, want %s + 0.001", r.Before.Credits, before.Before.Credits)
	}
	if _, err := db.Exec(`UPDATE usage_price_inputs SET credits = credits - 1 WHERE ctid = (SELECT min(ctid) FROM usage_price_inputs)`); err != nil {
		t.Fatal(err)
	}

	// Late events dated into folded days (two with prompt hashes, which never split a group):
	// their slices are stale and read from the events until the next fold.
	for i, h := range []string{"", "aaa", "bbb"} {
		u := uses[0]
		if h != "" {
			u.attrs = map[string]string{"model": "gpt-4o", "prompt_hash": h}
		}
		charge(accs[1], u, noon.Add(-3*24*time.Hour+3*time.Hour+time.Duration(i)*time.Minute), fmt.Sprintf("late-%d", i))
		n++
	}
	checkSimulation(t, svc, st, draft.Book, accs, simNow, n, "stale")
	if b, err := simulate.Fold(ctx, st, simNow); err != nil || b.Slices != 1 {
		t.Fatalf("refold: %+v, %v; want the one changed slice", b, err)
	}
	checkSimulation(t, svc, st, draft.Book, accs, simNow, n, "refolded")
	var hashed int
	if err := db.Get(&hashed, `SELECT count(*) FROM usage_price_inputs WHERE attributes LIKE '%prompt_hash%'`); err != nil || hashed != 0 {
		t.Errorf("%d rollup rows keep a prompt hash (%v)", hashed, err)
	}

	// A window not on the hour: the partial hours at both ends are read from the events.
	edgeNow := noon.Add(3 * time.Minute)
	for i, at := range []time.Time{edgeNow.Add(-simulate.Window - time.Minute), edgeNow.Add(-simulate.Window + time.Minute),
		edgeNow.Add(-time.Minute), edgeNow.Add(time.Minute)} {
		charge(accs[2], uses[3+i%2], at, fmt.Sprintf("edge-%d", i))
		n++
	}
	if _, err := simulate.Fold(ctx, st, edgeNow); err != nil {
		t.Fatal(err)
	}
	checkSimulation(t, svc, st, draft.Book, accs, edgeNow, n, "edges")

	var ledgerAfter, ledgerCharged int
	if err := db.Get(&ledgerAfter, `SELECT count(*) FROM ledger_entries`); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&ledgerCharged, `SELECT count(*) FROM ledger_entries WHERE debit_id IN
		(SELECT debit_id FROM usage_events WHERE idempotency_key LIKE 'late-%' OR idempotency_key LIKE 'edge-%')`); err != nil {
		t.Fatal(err)
	}
	if ledgerAfter != ledgerBefore+ledgerCharged {
		t.Errorf("ledger entries %d → %d with %d charged: the simulation or the fold wrote", ledgerBefore, ledgerAfter, ledgerCharged)
	}
}

func mustRun(t *testing.T, st *store.Store, draft *pricing.Book, now time.Time) *simulate.Result {
	t.Helper()
	res, err := simulate.Run(context.Background(), st, draft, pricing.DefaultMarginTarget, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkSimulation compares the simulation at now with every event of accs in its window priced
// again, one by one, with the draft.
func checkSimulation(t *testing.T, svc *billing.Service, st *store.Store, draft *pricing.Book, accs []string, now time.Time, charged int, stage string) {
	t.Helper()
	ctx := context.Background()
	var progressed [2]int64
	res, err := simulate.Run(ctx, st, draft, pricing.DefaultMarginTarget, now, func(d, total int64) { progressed = [2]int64{d, total} })
	if err != nil {
		t.Fatalf("%s: %v", stage, err)
	}
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
			if ev.OccurredAt.Before(now.Add(-simulate.Window)) || !ev.OccurredAt.Before(now) {
				continue
			}
			attrs := map[string]string{}
			for k, v := range ev.Attributes {
				if k != "prompt_hash" {
					attrs[k] = v
				}
			}
			q, err := draft.Price(billing.PriceRequest{Action: ev.Action, Quantities: ev.Quantities, Attributes: attrs,
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
	if want.events == int64(charged) || want.events == 0 {
		t.Fatalf("%s: the window keeps %d of %d events; the test wants some left out", stage, want.events, charged)
	}
	if res.Events != want.events || int64(res.Before.Credits) != want.before || int64(res.After.Credits) != want.after ||
		res.After.CostMicroUSD != want.cost || res.Unpriced != 0 {
		t.Errorf("%s: simulation: %d events, %s → %s credits, cost %d; computed %d events, %d → %d, cost %d", stage,
			res.Events, res.Before.Credits, res.After.Credits, res.After.CostMicroUSD, want.events, want.before, want.after, want.cost)
	}
	if progressed[0] != res.Events || progressed[1] < res.Events {
		t.Errorf("%s: last progress %d of %d, for %d events", stage, progressed[0], progressed[1], res.Events)
	}
	if res.After.RevenueMicroUSD != want.after*100 { // a credit is $0.10: 100 µUSD a millicredit
		t.Errorf("%s: revenue after = %d µUSD, want %d", stage, res.After.RevenueMicroUSD, want.after*100)
	}
	var groupSum int64
	for _, g := range res.Groups {
		groupSum += int64(g.After.Credits)
	}
	if groupSum != want.after {
		t.Errorf("%s: groups add up to %d, want %d", stage, groupSum, want.after)
	}
	// Free's spend falls (video halves), Pro's rises (gpt-4o input up): one each way.
	if len(res.Increases) == 0 || len(res.Decreases) == 0 {
		t.Fatalf("%s: increases %v, decreases %v", stage, res.Increases, res.Decreases)
	}
	for _, c := range append(slices.Clone(res.Increases), res.Decreases...) {
		if p := perAccount[c.AccountID]; c.Before != p[0] || c.After != p[1] {
			t.Errorf("%s: customer %s: %s → %s, computed %s → %s", stage, c.AccountID, c.Before, c.After, p[0], p[1])
		}
	}
}
