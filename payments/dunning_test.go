package payments_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"creditline/billing"
)

// failedInvoice is an invoice.payment_failed object: nothing paid, amount_due owed.
func failedInvoice(id, acc, cus, sub, plan string, due int64) map[string]any {
	inv := invoiceObj(id, acc, cus, sub, plan, 0)
	inv["amount_due"] = due
	return inv
}

// mailTo lists the dunning mail sent to addr, oldest first.
func (e *env) mailTo(addr string) []billing.Mail {
	e.t.Helper()
	all, err := e.svc.Outbox(context.Background(), 500)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []billing.Mail
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].To == addr && strings.HasPrefix(all[i].Kind, "dunning_") {
			out = append(out, all[i])
		}
	}
	return out
}

func (e *env) wantMail(addr string, kinds ...string) []billing.Mail {
	e.t.Helper()
	ms := e.mailTo(addr)
	got := make([]string, len(ms))
	for i, m := range ms {
		got[i] = m.Kind
	}
	if strings.Join(got, " ") != strings.Join(kinds, " ") {
		e.t.Fatalf("dunning mail %v, want %v", got, kinds)
	}
	return ms
}

// dunningJobs maps the subscription's dunning job kinds to their status.
func (e *env) dunningJobs(subID string) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for _, st := range []string{billing.JobQueued, billing.JobRunning, billing.JobDone, billing.JobFailed} {
		rows, err := e.st.JobsByStatus(context.Background(), st, 100000)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, r := range rows {
			var p struct {
				Sub string `json:"subscription_id"`
			}
			if !strings.HasPrefix(r.Kind, "dunning.") || json.Unmarshal(r.Payload, &p) != nil || p.Sub != subID {
				continue
			}
			if _, dup := out[r.Kind]; dup {
				e.t.Fatalf("two %s jobs for %s", r.Kind, subID)
			}
			out[r.Kind] = r.Status
		}
	}
	return out
}

func (e *env) notificationKinds(acc string) []string {
	e.t.Helper()
	ns, err := e.svc.Notifications(context.Background(), acc)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := len(ns) - 1; i >= 0; i-- {
		out = append(out, ns[i].Kind)
	}
	return out
}

// proSubscriber is an account that bought a pack and pays for Pro; it returns its owner's
// address (where billing mail goes), the account, and the customer and subscription ids.
func (e *env) proSubscriber() (string, billing.Account, string, string) {
	e.t.Helper()
	uid, acc := e.user()
	owner, err := e.st.UserByID(context.Background(), uid)
	if err != nil {
		e.t.Fatal(err)
	}
	cus := e.customer(uid)
	e.send(e.u("evt_pack"+acc.ID), "checkout.session.completed", time.Now(), packSession(e.u("cs_"+acc.ID), acc.ID, cus, "paid"))
	sub := e.u("sub_" + acc.ID)
	e.send(e.u("evt_sub"+acc.ID), "customer.subscription.created", time.Now(), subObj(sub, acc.ID, cus, "pro", "active", time.Now().AddDate(0, 1, 0)))
	e.send(e.u("evt_in1"+acc.ID), "invoice.paid", time.Now(), invoiceObj(e.u("in_1"+acc.ID), acc.ID, cus, sub, "pro", 4900))
	if p := e.account(acc.ID).PlanKey; p != "pro" {
		e.t.Fatalf("plan %s, want pro", p)
	}
	return owner.Email, acc, cus, sub
}

// A failed invoice left unpaid: mail at once (once, however often the failure arrives), the
// reminder three days before the grace ends, then the Free plan with the credits kept, told
// in mail and in-app and audited; a later paid invoice brings the plan back.
func TestDunningGraceEndsUnpaidThenPaidRestores(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	addr, acc, cus, sub := e.proSubscriber()
	had := e.available(acc.ID)
	failedAt := e.clock.Now()

	fail := failedInvoice(e.u("in_2"), acc.ID, cus, sub, "pro", 4900)
	e.send(e.u("evt_fail"), "invoice.payment_failed", time.Now(), fail)
	e.send(e.u("evt_fail"), "invoice.payment_failed", time.Now(), fail)       // a replay
	e.send(e.u("evt_fail_retry"), "invoice.payment_failed", time.Now(), fail) // Stripe's next attempt
	ms := e.wantMail(addr, billing.MailDunningFailed)
	ends := failedAt.Add(billing.DefaultGrace).UTC().Format("2 January 2006 at 15:04 UTC")
	for _, want := range []string{"$49.00", "Pro plan", ends, "/billing/portal", e.u("in_2")} {
		if !strings.Contains(ms[0].Body, want) {
			t.Errorf("failure mail lacks %q:\n%s", want, ms[0].Body)
		}
	}
	if jobs := e.dunningJobs(sub); len(jobs) != 2 || jobs[billing.JobDunningReminder] != "queued" || jobs[billing.JobDunningEnd] != "queued" {
		t.Fatalf("jobs %v, want a queued reminder and end", jobs)
	}
	e.runJobs()
	e.wantMail(addr, billing.MailDunningFailed)

	e.clock.Advance(4 * 24 * time.Hour)
	e.runJobs()
	ms = e.wantMail(addr, billing.MailDunningFailed, billing.MailDunningReminder)
	if !strings.HasPrefix(ms[1].Subject, "3 days left") || !strings.Contains(ms[1].Body, ends) || !strings.Contains(ms[1].Body, "/billing/portal") {
		t.Errorf("reminder %q:\n%s", ms[1].Subject, ms[1].Body)
	}
	if p := e.account(acc.ID).PlanKey; p != "pro" {
		t.Fatalf("plan %s during the grace period", p)
	}

	auditFrom := len(e.auditOf(t, acc.ID))
	e.clock.Advance(3 * 24 * time.Hour)
	e.runJobs()
	if p := e.account(acc.ID).PlanKey; p != "free" {
		t.Fatalf("plan %s after the grace ended unpaid, want free", p)
	}
	if got := e.available(acc.ID); got != had {
		t.Fatalf("available %s after the downgrade, want %s kept", got, had)
	}
	ms = e.wantMail(addr, billing.MailDunningFailed, billing.MailDunningReminder, billing.MailDunningDowngrade)
	if !strings.Contains(ms[2].Body, "Free plan") || !strings.Contains(ms[2].Body, "/billing/portal") {
		t.Errorf("downgrade mail:\n%s", ms[2].Body)
	}
	if ns := e.notificationKinds(acc.ID); ns[len(ns)-1] != "plan_downgraded" {
		t.Fatalf("notifications %v", ns)
	}
	e.wantAudit(t, acc.ID, auditFrom, billing.AuditAccountUpdate, billing.Actor{Kind: billing.ActorJob, ID: billing.JobDunningEnd},
		map[string]any{"plan": "pro"}, map[string]any{"plan": "free"})
	e.runJobs() // nothing is left to do, and nothing happens twice
	e.wantMail(addr, billing.MailDunningFailed, billing.MailDunningReminder, billing.MailDunningDowngrade)

	// Stripe still calls the subscription past_due: that alone does not give the plan back.
	e.send(e.u("evt_upd"), "customer.subscription.updated", time.Now().Add(time.Minute), subObj(sub, acc.ID, cus, "pro", "past_due", time.Now().AddDate(0, 1, 0)))
	if p := e.account(acc.ID).PlanKey; p != "free" {
		t.Fatalf("plan %s after a past_due update, want free until paid", p)
	}
	// The bought credits stay usable on the Free plan.
	if _, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc.ID, Amount: c("10"), IdempotencyKey: e.u("after-downgrade")}); err != nil {
		t.Fatalf("debit on the Free plan: %v", err)
	}

	auditFrom = len(e.auditOf(t, acc.ID))
	e.send(e.u("evt_paid"), "invoice.paid", time.Now(), invoiceObj(e.u("in_2"), acc.ID, cus, sub, "pro", 4900))
	if p := e.account(acc.ID).PlanKey; p != "pro" {
		t.Fatalf("plan %s after the invoice was paid, want pro", p)
	}
	e.wantMail(addr, billing.MailDunningFailed, billing.MailDunningReminder, billing.MailDunningDowngrade, billing.MailDunningRestored)
	// Alert rules (the account's defaults) add their own notices around these.
	if ns := e.notificationKinds(acc.ID); !slices.Contains(ns, "plan_restored") || slices.Index(ns, "plan_restored") < slices.Index(ns, "plan_downgraded") {
		t.Fatalf("notifications %v: want plan_restored after plan_downgraded", ns)
	}
	es := e.auditOf(t, acc.ID)[auditFrom:]
	var after struct{ Plan string }
	if len(es) == 0 || es[0].Action != billing.AuditAccountUpdate || json.Unmarshal(es[0].After, &after) != nil || after.Plan != "pro" {
		t.Fatalf("restore audit %+v", es)
	}

	// A new failure later opens a new grace period.
	e.send(e.u("evt_fail3"), "invoice.payment_failed", time.Now(), failedInvoice(e.u("in_3"), acc.ID, cus, sub, "pro", 4900))
	e.wantMail(addr, billing.MailDunningFailed, billing.MailDunningReminder, billing.MailDunningDowngrade, billing.MailDunningRestored,
		billing.MailDunningFailed)
}

// An invoice paid within the grace period ends it: the jobs still run, find nothing to do,
// and the plan never moves.
func TestDunningPaidWithinGraceChangesNothing(t *testing.T) {
	e := newEnv(t)
	addr, acc, cus, sub := e.proSubscriber()
	auditFrom := len(e.auditOf(t, acc.ID))
	e.send(e.u("evt_fail"), "invoice.payment_failed", time.Now(), failedInvoice(e.u("in_2"), acc.ID, cus, sub, "pro", 4900))
	e.clock.Advance(2 * 24 * time.Hour)
	e.send(e.u("evt_paid"), "invoice.paid", time.Now(), invoiceObj(e.u("in_2"), acc.ID, cus, sub, "pro", 4900))
	e.clock.Advance(6 * 24 * time.Hour)
	e.runJobs()
	if jobs := e.dunningJobs(sub); jobs[billing.JobDunningReminder] != "done" || jobs[billing.JobDunningEnd] != "done" {
		t.Fatalf("jobs %v, want both run", jobs)
	}
	if p := e.account(acc.ID).PlanKey; p != "pro" {
		t.Fatalf("plan %s, want pro", p)
	}
	e.wantMail(addr, billing.MailDunningFailed)
	for _, en := range e.auditOf(t, acc.ID)[auditFrom:] {
		if en.Action == billing.AuditAccountUpdate {
			t.Fatalf("plan change audited: %+v", en)
		}
	}
}

// A subscription cancelled during the grace period needs no dunning: no reminder, no
// downgrade mail (the cancellation already set the Free plan).
func TestDunningStopsWhenSubscriptionCancelled(t *testing.T) {
	e := newEnv(t)
	addr, acc, cus, sub := e.proSubscriber()
	e.send(e.u("evt_fail"), "invoice.payment_failed", time.Now(), failedInvoice(e.u("in_2"), acc.ID, cus, sub, "pro", 4900))
	e.send(e.u("evt_del"), "customer.subscription.deleted", time.Now().Add(time.Minute), subObj(sub, acc.ID, cus, "pro", "canceled", time.Now()))
	e.clock.Advance(8 * 24 * time.Hour)
	e.runJobs()
	e.wantMail(addr, billing.MailDunningFailed)
	if ns := e.notificationKinds(acc.ID); ns[len(ns)-1] == "plan_downgraded" {
		t.Fatalf("notifications %v", ns)
	}
}

// A failure delivered after its invoice was paid (Stripe retrying an event we failed to
// process) opens no dunning: no mail, no jobs, the plan stays and the subscription is not past due.
func TestDunningIgnoresAFailureOfAPaidInvoice(t *testing.T) {
	e := newEnv(t)
	addr, acc, cus, sub := e.proSubscriber()
	e.send(e.u("evt_paid"), "invoice.paid", time.Now(), invoiceObj(e.u("in_2"), acc.ID, cus, sub, "pro", 4900))
	e.send(e.u("evt_fail"), "invoice.payment_failed", time.Now(), failedInvoice(e.u("in_2"), acc.ID, cus, sub, "pro", 4900))
	e.clock.Advance(8 * 24 * time.Hour)
	e.runJobs()
	e.wantMail(addr)
	if jobs := e.dunningJobs(sub); len(jobs) != 0 {
		t.Fatalf("dunning jobs %v for a paid invoice", jobs)
	}
	if p := e.account(acc.ID).PlanKey; p != "pro" {
		t.Fatalf("plan %s, want pro", p)
	}
}

// A case whose subscription is active again (the invoice voided, no invoice.paid) ends
// without a downgrade.
func TestDunningEndsWithoutDowngradeWhenTheSubscriptionIsActive(t *testing.T) {
	e := newEnv(t)
	addr, acc, cus, sub := e.proSubscriber()
	e.send(e.u("evt_fail"), "invoice.payment_failed", time.Now(), failedInvoice(e.u("in_2"), acc.ID, cus, sub, "pro", 4900))
	e.send(e.u("evt_upd"), "customer.subscription.updated", time.Now().Add(time.Minute), subObj(sub, acc.ID, cus, "pro", "active", time.Now()))
	e.clock.Advance(8 * 24 * time.Hour)
	e.runJobs()
	e.wantMail(addr, billing.MailDunningFailed)
	if p := e.account(acc.ID).PlanKey; p != "pro" {
		t.Fatalf("plan %s after the grace of a voided invoice, want pro", p)
	}
}
