package payments_test

import (
	"context"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/abuse"
)

// failuresOf is the account's failed payments as the card-testing detector counts them.
func (e *env) failuresOf(acc string) abuse.FailureRow {
	e.t.Helper()
	rows, err := e.st.Abuse().FailedPayments(context.Background(), time.Time{}, 1)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range rows {
		if r.AccountID == acc {
			return r
		}
	}
	return abuse.FailureRow{AccountID: acc}
}

// Cards declined on a pack's Checkout page (signed payment_intent.payment_failed webhooks) are
// counted once per event, a replay adds nothing; a failure of an unknown account is accepted
// and counted nowhere; a failed asynchronous checkout payment counts as its own source.
func TestDeclinedCheckoutCardsAreCounted(t *testing.T) {
	e := newEnv(t)
	uid, acc := e.user()
	cus := e.customer(uid)
	pi := func(id string, meta map[string]string) map[string]any {
		return map[string]any{"id": id, "object": "payment_intent", "amount": 4500, "currency": "usd",
			"status": "requires_payment_method", "customer": cus, "metadata": meta,
			"last_payment_error": map[string]any{"message": "Your card was declined."}}
	}
	meta := map[string]string{"kind": "pack", "account": acc.ID}
	e.send(e.u("evt_dc1"), "payment_intent.payment_failed", time.Now(), pi(e.u("pi_dc"), meta))
	e.send(e.u("evt_dc1"), "payment_intent.payment_failed", time.Now(), pi(e.u("pi_dc"), meta)) // a replay
	e.send(e.u("evt_dc2"), "payment_intent.payment_failed", time.Now(), pi(e.u("pi_dc"), meta)) // the next card
	e.send(e.u("evt_dc3"), "payment_intent.payment_failed", time.Now(), map[string]any{"id": e.u("pi_nobody"),
		"object": "payment_intent", "amount": 100, "currency": "usd", "status": "requires_payment_method",
		"metadata": map[string]string{"kind": "pack", "account": "acc_nobody"}})
	e.send(e.u("evt_dc4"), "checkout.session.async_payment_failed", time.Now(), packSession(e.u("cs_dc"), acc.ID, cus, "unpaid"))
	if f := e.failuresOf(acc.ID); f.Failures != 3 || f.Intent != 2 || f.Checkout != 1 || f.Recharge != 0 {
		t.Fatalf("counted %+v, want 2 declined cards and 1 failed async checkout", f)
	}
	if f := e.failuresOf("acc_nobody"); f.Failures != 0 {
		t.Fatalf("an unknown account's failure counted: %+v", f)
	}
}

// A declined off-session auto-recharge counts once as a failed payment.
func TestDeclinedRechargeIsCounted(t *testing.T) {
	e := newEnv(t)
	uid, acc := e.rechargeUser("400", "10", "500")
	// The customer opened a checkout from a network a moment ago; the off-session charge is not theirs.
	if _, err := e.svc.StartCheckoutFrom(context.Background(), uid, billing.KindPack, "starter", "usd", "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	e.pay.Plan(acc, billing.ChargeDeclined)
	e.debit(acc, "200")
	e.runJobs()
	e.runJobs()
	if f := e.failuresOf(acc); f.Failures != 1 || f.Recharge != 1 || len(f.Networks) != 0 {
		t.Fatalf("counted %+v, want one declined auto-recharge, of no network (off-session)", f)
	}
}
