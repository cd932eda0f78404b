package payments_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"creditline/billing"
)

// setChannels gives the account's rules of kind exactly channels.
func (e *env) setChannels(acc, kind string, channels ...string) {
	e.t.Helper()
	ctx := context.Background()
	rules, err := e.svc.AlertRules(ctx, acc)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, r := range rules {
		if r.Kind != kind {
			continue
		}
		n++
		in := billing.AlertRuleInput{Kind: r.Kind, Threshold: billing.AlertThresholdText(r), Channels: channels, Enabled: &r.Enabled}
		if _, err := e.svc.UpdateAlertRule(ctx, acc, r.ID, in, billing.Op{Actor: billing.Actor{Kind: billing.ActorSystem}}); err != nil {
			e.t.Fatal(err)
		}
	}
	if n == 0 {
		e.t.Fatalf("account %s has no %s rule", acc, kind)
	}
}

// alertMails counts the queued alert mails of a rule kind's subject to addr.
func (e *env) alertMails(addr, subject string) int {
	e.t.Helper()
	ms, err := e.svc.Outbox(context.Background(), 500)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		if m.Kind == billing.MailAlert && m.To == addr && m.Subject == subject {
			n++
		}
	}
	return n
}

// TestFailureRulesInAppChannelIsSilenceableOnItsOwn: with the in-app channel of the
// payment_failed and recharge_failed rules switched off, a failed subscription payment and a
// declined auto-recharge leave no in-app notice, while their email still goes out; with it on,
// the notice is there, once.
func TestFailureRulesInAppChannelIsSilenceableOnItsOwn(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	// Payment failed, in-app off: mail only.
	addr, acc, cus, sub := e.proSubscriber()
	e.setChannels(acc.ID, billing.AlertPaymentFailed, billing.ChannelEmail)
	e.send(e.u("evt_fail_quiet"), "invoice.payment_failed", time.Now(), failedInvoice(e.u("in_quiet"), acc.ID, cus, sub, "pro", 4900))
	e.runJobs()
	if kinds := e.notificationKinds(acc.ID); slices.Contains(kinds, "payment_failed") {
		t.Errorf("in-app switched off, yet notifications %v", kinds)
	}
	if n := e.alertMails(addr, "Payment failed"); n != 1 {
		t.Errorf("%d payment_failed alert mails, want 1", n)
	}

	// Payment failed, in-app on (the default): the notice, tied to its rule.
	addr2, acc2, cus2, sub2 := e.proSubscriber()
	e.send(e.u("evt_fail_loud"), "invoice.payment_failed", time.Now(), failedInvoice(e.u("in_loud"), acc2.ID, cus2, sub2, "pro", 4900))
	e.runJobs()
	ns, err := e.svc.Notifications(ctx, acc2.ID)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, n := range ns {
		if n.Kind == "payment_failed" {
			found++
		}
	}
	if found != 1 || e.alertMails(addr2, "Payment failed") != 1 {
		t.Errorf("in-app on: %d notices, %d mails; want 1 and 1", found, e.alertMails(addr2, "Payment failed"))
	}

	// Auto-recharge declined, in-app off: no decline notice, the mail still goes.
	_, racc := e.rechargeUser("400", "10", "500")
	e.setChannels(racc, billing.AlertRechargeFailed, billing.ChannelEmail)
	owners, err := e.st.AccountMembers(ctx, racc)
	if err != nil || len(owners) == 0 {
		t.Fatal(owners, err)
	}
	e.pay.Plan(racc, billing.ChargeDeclined)
	e.debit(racc, "200")
	e.runJobs()
	if len(e.recharges(racc)) == 0 {
		t.Fatal("no recharge was attempted")
	}
	if kinds := e.notificationKinds(racc); slices.Contains(kinds, "auto_recharge") {
		t.Errorf("in-app switched off, yet notifications %v", kinds)
	}
	if n := e.alertMails(owners[0].Email, "Auto-recharge failed"); n != 1 {
		t.Errorf("%d recharge_failed alert mails, want 1", n)
	}
}
