package payments_test

import (
	"testing"
	"time"

	"creditline/billing"
)

// TestDunningEndsOnlyOnAnInvoiceThatCoversIt: an invoice of the subscription paid after the
// failure ends the grace period only if it is the failed invoice or bills a later period: a
// late invoice.paid for an earlier period leaves the case open (the plan still drops to Free
// at the end of the grace), the next period's paid invoice brings it back.
func TestDunningEndsOnlyOnAnInvoiceThatCoversIt(t *testing.T) {
	e := newEnv(t)
	addr, acc, cus, sub := e.proSubscriber()
	p0 := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	p1, p2, p3 := p0.AddDate(0, 1, 0), p0.AddDate(0, 2, 0), p0.AddDate(0, 3, 0)
	withPeriod := func(inv map[string]any, start, end time.Time) map[string]any {
		inv["period_start"], inv["period_end"] = start.Unix(), end.Unix()
		return inv
	}
	e.send(e.u("evt_fail"), "invoice.payment_failed", time.Now(), withPeriod(failedInvoice(e.u("in_p1"), acc.ID, cus, sub, "pro", 4900), p1, p2))

	// The earlier period's invoice, paid late: not the one that failed.
	e.send(e.u("evt_paid_p0"), "invoice.paid", time.Now(), withPeriod(invoiceObj(e.u("in_p0"), acc.ID, cus, sub, "pro", 4900), p0, p1))
	// Past the reminder, then past the grace: the two jobs in their order (one jump past both
	// could run them side by side, and a reminder after the downgrade is rightly skipped).
	e.clock.Advance(billing.DefaultGrace - 3*24*time.Hour + time.Hour)
	e.runJobs()
	e.clock.Advance(3 * 24 * time.Hour)
	e.runJobs()
	if p := e.account(acc.ID).PlanKey; p != "free" {
		t.Fatalf("plan %s after the grace ended with the failed invoice unpaid, want free", p)
	}
	e.wantMail(addr, billing.MailDunningFailed, billing.MailDunningReminder, billing.MailDunningDowngrade)

	// The next period's invoice paid: it covers the failure.
	e.send(e.u("evt_paid_p2"), "invoice.paid", time.Now(), withPeriod(invoiceObj(e.u("in_p2"), acc.ID, cus, sub, "pro", 4900), p2, p3))
	if p := e.account(acc.ID).PlanKey; p != "pro" {
		t.Fatalf("plan %s after a later period's invoice was paid, want pro", p)
	}
	e.wantMail(addr, billing.MailDunningFailed, billing.MailDunningReminder, billing.MailDunningDowngrade, billing.MailDunningRestored)
}
