package billing

import (
	"testing"
	"time"
)

func TestDunningCaseCoveredBy(t *testing.T) {
	d := func(day int) time.Time { return time.Date(2026, 11, day, 0, 0, 0, 0, time.UTC) }
	end := d(20)
	withPeriod := DunningCase{InvoiceID: "in_2", FailedAt: d(5), PeriodEnd: &end}
	noPeriod := DunningCase{InvoiceID: "in_2", FailedAt: d(5)}
	for _, tc := range []struct {
		name string
		c    DunningCase
		inv  InvoiceEvent
		want bool
	}{
		{"the failed invoice", withPeriod, InvoiceEvent{ID: "in_2"}, true},
		{"a later period", withPeriod, InvoiceEvent{ID: "in_3", PeriodStart: d(20), PeriodEnd: d(30)}, true},
		{"an earlier period", withPeriod, InvoiceEvent{ID: "in_1", PeriodStart: d(1), PeriodEnd: d(10)}, false},
		{"a proration in the same period", withPeriod, InvoiceEvent{ID: "in_p", PeriodStart: d(8), PeriodEnd: d(20)}, false},
		{"no period on the paid invoice", withPeriod, InvoiceEvent{ID: "in_3"}, false},
		{"case without a period: one that began after the failure", noPeriod, InvoiceEvent{ID: "in_3", PeriodStart: d(6), PeriodEnd: d(28)}, true},
		{"case without a period: one that began before", noPeriod, InvoiceEvent{ID: "in_1", PeriodStart: d(1), PeriodEnd: d(28)}, false},
	} {
		if got := tc.c.coveredBy(&tc.inv); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
