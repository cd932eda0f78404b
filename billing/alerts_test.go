package billing

import (
	"testing"
	"time"
)

func benchRules() ([]AlertRule, Account) {
	limit := 200 * Credit
	a := Account{ID: "acc_b", LastTopup: 1000 * Credit, SpendLimit: &limit}
	return defaultAlertRules(a.ID, time.Now()), a
}

// The decision the hot path adds to every batch: comparisons over the cached rules.
func BenchmarkAlertDue(b *testing.B) {
	rules, a := benchRules()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if alertDue(rules, &a, Credits(500+i%100)*Credit, 10*Credit) {
			b.Fatal("nothing crosses here")
		}
	}
}

func TestAlertTransitions(t *testing.T) {
	rules, a := benchRules()
	pct := &rules[0] // balance_below_percent 20
	if alertBreached(pct, &a, 200*Credit, 0) || !alertBreached(pct, &a, 199999, 0) {
		t.Fatal("20% of 1000 is 200: 200 is not below it, 199.999 is")
	}
	a.LastTopup = 0
	if alertBreached(pct, &a, -5*Credit, 0) {
		t.Fatal("no top-up yet: the percent rule is quiet")
	}
	a.LastTopup = 1000 * Credit
	spent := 160 * Credit // 80% of 200
	ts := evalAlerts(rules, &a, 500*Credit, spent, nil)
	if len(ts) != 1 || ts[0].rule.Kind != AlertSpendPercent || ts[0].rule.Threshold != 80 || !ts[0].fire {
		t.Fatalf("at 80%% spend: %+v", ts)
	}
	ts[0].rule.Firing = true
	if ts := evalAlerts(rules, &a, 500*Credit, spent, nil); len(ts) != 0 {
		t.Fatalf("a firing rule whose condition holds changes nothing: %+v", ts)
	}
	a.SpendLimit = nil
	if ts := evalAlerts(rules, &a, 500*Credit, spent, nil); len(ts) != 1 || ts[0].fire {
		t.Fatalf("limit removed: the firing rule resolves: %+v", ts)
	}
}
