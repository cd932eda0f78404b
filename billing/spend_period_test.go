package billing

import (
	"testing"
	"time"
)

func TestSpendPeriod(t *testing.T) {
	d := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	sub := func(start, end string) Account {
		s, e := d(start), d(end)
		return Account{BillingPeriodStart: &s, BillingPeriodEnd: &e}
	}
	for _, tc := range []struct {
		name       string
		a          Account
		now        string
		start, end string
	}{
		{"no subscription: the calendar month", Account{}, "2026-11-20T10:00:00Z", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"},
		{"inside the subscription's period", sub("2026-11-17T09:30:00Z", "2026-12-17T09:30:00Z"), "2026-12-02T00:00:00Z",
			"2026-11-17T09:30:00Z", "2026-12-17T09:30:00Z"},
		{"at its start", sub("2026-11-17T09:30:00Z", "2026-12-17T09:30:00Z"), "2026-11-17T09:30:00Z",
			"2026-11-17T09:30:00Z", "2026-12-17T09:30:00Z"},
		{"at its end the next one starts (no renewal event yet)", sub("2026-11-17T09:30:00Z", "2026-12-17T09:30:00Z"), "2026-12-17T09:30:00Z",
			"2026-12-17T09:30:00Z", "2027-01-17T09:30:00Z"},
		{"months later, still on the 17th", sub("2026-11-17T09:30:00Z", "2026-12-17T09:30:00Z"), "2027-03-20T00:00:00Z",
			"2027-03-17T09:30:00Z", "2027-04-17T09:30:00Z"},
		{"before the period (clock behind the event)", sub("2026-11-17T09:30:00Z", "2026-12-17T09:30:00Z"), "2026-11-17T09:29:00Z",
			"2026-10-17T09:30:00Z", "2026-11-17T09:30:00Z"},
		{"the 31st clamps to short months", sub("2027-01-31T00:00:00Z", "2027-02-28T00:00:00Z"), "2027-03-05T00:00:00Z",
			"2027-02-28T00:00:00Z", "2027-03-31T00:00:00Z"},
		{"a yearly plan", sub("2026-06-10T00:00:00Z", "2027-06-10T00:00:00Z"), "2027-07-01T00:00:00Z",
			"2027-06-10T00:00:00Z", "2028-06-10T00:00:00Z"},
		{"an invalid period is ignored", sub("2026-11-17T00:00:00Z", "2026-11-17T00:00:00Z"), "2026-11-20T00:00:00Z",
			"2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"},
	} {
		start, end := SpendPeriod(tc.a, d(tc.now))
		if !start.Equal(d(tc.start)) || !end.Equal(d(tc.end)) {
			t.Errorf("%s: [%s, %s), want [%s, %s)", tc.name, start.Format(time.RFC3339), end.Format(time.RFC3339), tc.start, tc.end)
		}
	}
}

// Spend counts in the subscription's period: it survives the 1st and resets on the 17th.
func TestSpentThisPeriodFollowsTheSubscription(t *testing.T) {
	s, e := time.Date(2026, 11, 17, 9, 30, 0, 0, time.UTC), time.Date(2026, 12, 17, 9, 30, 0, 0, time.UTC)
	a := Account{BillingPeriodStart: &s, BillingPeriodEnd: &e, PeriodStart: &s, PeriodSpent: 10 * Credit}
	if got := a.SpentThisPeriod(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)); got != 10*Credit {
		t.Errorf("on 2 December: spent %s, want 10", got)
	}
	if got := a.SpentThisPeriod(e); got != 0 {
		t.Errorf("on 17 December: spent %s, want 0", got)
	}
	if got := a.PeriodResetsAt(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)); !got.Equal(e) {
		t.Errorf("resets at %s", got)
	}
}
