package payments_test

import (
	"context"
	"testing"

	"creditline/billing"
)

// TestDeclinedRechargeFiresItsAlertOnce: a declined auto-recharge fires the account's
// recharge_failed rule once: one mail to the owner (the in-app notice is the decline's own),
// however often the jobs run again.
func TestDeclinedRechargeFiresItsAlertOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, acc := e.rechargeUser("400", "10", "500")
	ms, err := e.st.AccountMembers(ctx, acc)
	if err != nil || len(ms) == 0 {
		t.Fatal(ms, err)
	}
	e.pay.Plan(acc, billing.ChargeDeclined)
	e.debit(acc, "200")
	e.runJobs()
	e.runJobs()
	mails, err := e.svc.Outbox(ctx, 500)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range mails {
		if m.Kind == billing.MailAlert && m.To == ms[0].Email && m.Subject == "Auto-recharge failed" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d recharge_failed alert mails, want 1", n)
	}
}
