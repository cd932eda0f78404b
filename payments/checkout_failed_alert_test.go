package payments_test

import (
	"context"
	"testing"
	"time"

	"creditline/billing"
)

// ownerOf is the account owner's email address.
func (e *env) ownerOf(uid string) string {
	e.t.Helper()
	u, err := e.st.UserByID(context.Background(), uid)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.Email
}

// paymentFailedNotices counts the account's in-app payment_failed notices raised by a rule.
func (e *env) paymentFailedNotices(acc string) (all, ruled int) {
	e.t.Helper()
	ns, err := e.svc.Notifications(context.Background(), acc)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, n := range ns {
		if n.Kind == "payment_failed" {
			all++
			if n.RuleID != nil && *n.RuleID != "" {
				ruled++
			}
		}
	}
	return all, ruled
}

// TestFailedAsyncPackPaymentFiresThePaymentFailedRule: a pack's failed asynchronous payment
// fires the account's payment_failed rule like a failed subscription payment: the in-app notice
// (once, tied to the rule) and the alert mail; a replay fires nothing more; another failed
// session fires again. With the rule's in-app channel off only the mail goes.
func TestFailedAsyncPackPaymentFiresThePaymentFailedRule(t *testing.T) {
	e := newEnv(t)
	uid, acc := e.user()
	addr, cus := e.ownerOf(uid), e.customer(uid)
	e.send(e.u("evt_apf1"), "checkout.session.async_payment_failed", time.Now(), packSession(e.u("cs_apf1"), acc.ID, cus, "unpaid"))
	e.send(e.u("evt_apf1"), "checkout.session.async_payment_failed", time.Now(), packSession(e.u("cs_apf1"), acc.ID, cus, "unpaid"))
	e.runJobs()
	if all, ruled := e.paymentFailedNotices(acc.ID); all != 1 || ruled != 1 {
		t.Fatalf("%d payment_failed notices (%d tied to the rule), want 1 and 1", all, ruled)
	}
	if n := e.alertMails(addr, "Payment failed"); n != 1 {
		t.Fatalf("%d payment_failed alert mails, want 1", n)
	}
	e.send(e.u("evt_apf2"), "checkout.session.async_payment_failed", time.Now(), packSession(e.u("cs_apf2"), acc.ID, cus, "unpaid"))
	e.runJobs()
	if all, _ := e.paymentFailedNotices(acc.ID); all != 2 || e.alertMails(addr, "Payment failed") != 2 {
		t.Fatalf("a second failed session: %d notices, %d mails; want 2 and 2", all, e.alertMails(addr, "Payment failed"))
	}

	uid2, acc2 := e.user()
	addr2, cus2 := e.ownerOf(uid2), e.customer(uid2)
	e.setChannels(acc2.ID, billing.AlertPaymentFailed, billing.ChannelEmail)
	e.send(e.u("evt_apf3"), "checkout.session.async_payment_failed", time.Now(), packSession(e.u("cs_apf3"), acc2.ID, cus2, "unpaid"))
	e.runJobs()
	if all, _ := e.paymentFailedNotices(acc2.ID); all != 0 || e.alertMails(addr2, "Payment failed") != 1 {
		t.Fatalf("in-app off: %d notices, %d mails; want 0 and 1", all, e.alertMails(addr2, "Payment failed"))
	}
}
