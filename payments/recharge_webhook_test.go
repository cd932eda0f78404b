package payments_test

import (
	"context"
	"testing"
	"time"

	"creditline/billing"
)

func intentObj(pi, acc, rechargeID string, extra map[string]any) map[string]any {
	o := map[string]any{"id": pi, "object": "payment_intent", "amount": 1000, "currency": "usd", "status": "succeeded",
		"metadata": map[string]string{"kind": "auto_recharge", "recharge": rechargeID, "account": acc}}
	for k, v := range extra {
		o[k] = v
	}
	return o
}

// With Stripe an off-session charge settles by webhook: payment_failed counts one decline
// however often it arrives, requires_action notifies, and succeeded grants exactly once.
func TestRechargeOutcomesArriveByWebhook(t *testing.T) {
	e := newEnv(t)
	_, acc := e.rechargeUser("400", "10", "500")
	e.pay.Plan(acc, billing.ChargeProcessing, billing.ChargeProcessing)
	e.debit(acc, "200")
	e.runJobs()
	r := e.recharges(acc)[0]
	if r.Status != billing.RechargeProcessing || r.PaymentIntent == nil {
		t.Fatalf("recharge %+v", r)
	}
	failed := intentObj(*r.PaymentIntent, acc, r.ID, map[string]any{"status": "requires_payment_method",
		"last_payment_error": map[string]any{"message": "Your card has insufficient funds."}})
	e.send(e.u("evt_pf"), "payment_intent.payment_failed", time.Now(), failed)
	e.send(e.u("evt_pf2"), "payment_intent.payment_failed", time.Now(), failed) // Stripe may say it twice
	if s := e.settings(acc); s.ConsecutiveDeclines != 1 || s.BackoffUntil == nil {
		t.Fatalf("settings %+v", s)
	}
	e.clock.Advance(61 * time.Minute)
	e.debit(acc, "10")
	e.runJobs()
	r = e.recharges(acc)[0]
	e.send(e.u("evt_ra"), "payment_intent.requires_action", time.Now(), intentObj(*r.PaymentIntent, acc, r.ID,
		map[string]any{"status": "requires_action"}))
	if got := e.recharges(acc)[0]; got.Status != billing.RechargeRequiresAction {
		t.Fatalf("recharge %+v", got)
	}
	had := e.available(acc)
	ok := intentObj(*r.PaymentIntent, acc, r.ID, nil)
	e.send(e.u("evt_ok"), "payment_intent.succeeded", time.Now(), ok)
	e.send(e.u("evt_ok2"), "payment_intent.succeeded", time.Now(), ok)
	if got := e.available(acc) - had; got != c("100") {
		t.Fatalf("granted %s, want 100 once", got)
	}
	if s := e.settings(acc); s.ConsecutiveDeclines != 0 || s.BackoffUntil != nil {
		t.Fatalf("a success clears the back-off: %+v", s)
	}
	ps, _ := e.st.ListPayments(context.Background(), acc, 10)
	if len(ps) != 2 || ps[0].Kind != "auto_recharge" {
		t.Fatalf("payments %+v", ps)
	}
}

func TestExpiredCheckoutSessionIsClosed(t *testing.T) {
	e := newEnv(t)
	uid, _ := e.user()
	start, err := e.svc.StartCheckout(context.Background(), uid, billing.KindPack, "scale")
	if err != nil {
		t.Fatal(err)
	}
	e.send(e.u("evt_exp"), "checkout.session.expired", time.Now(), map[string]any{"id": start.SessionID, "object": "checkout.session",
		"mode": "payment", "payment_status": "unpaid"})
	if err := e.svc.CompleteTestCheckout(context.Background(), uid, start.SessionID); billing.ErrorCode(err) != billing.EInvalid {
		t.Fatalf("paying an expired session: %v", err)
	}
}
