package payments_test

import (
	"context"
	"testing"
	"time"

	"creditline/billing"
)

func chargeObj(id, pi string, amount, refunded int64) map[string]any {
	return map[string]any{"id": id, "object": "charge", "payment_intent": pi, "amount": amount, "amount_refunded": refunded,
		"currency": "usd", "refunded": refunded == amount}
}

// A refund takes back the unspent part pro rata; what was spent becomes a shortfall flag.
// Stripe's cumulative amount_refunded makes replays and late events harmless.
func TestChargeRefundedRevokesUnspentProRata(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	uid, acc := e.user()
	cus := e.customer(uid)
	sess := packSession(e.u("cs_r"), acc.ID, cus, "paid") // growth: 500 credits for $45, pi "pi_"+session
	e.send(e.u("evt_buy"), "checkout.session.completed", time.Now(), sess)
	pi := "pi_" + e.u("cs_r")
	// Spend the 50 trial credits and 300 of the pack.
	if _, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc.ID, Amount: c("350"), IdempotencyKey: "spend"}); err != nil {
		t.Fatal(err)
	}
	if got := e.available(acc.ID); got != c("200") {
		t.Fatalf("available %s", got)
	}
	// Half refunded: 250 credits to take back, 200 left to take, 50 short.
	e.send(e.u("evt_r1"), "charge.refunded", time.Now(), chargeObj(e.u("ch_1"), pi, 4500, 2250))
	e.send(e.u("evt_r1b"), "charge.refunded", time.Now(), chargeObj(e.u("ch_1"), pi, 4500, 2250)) // same figure, new event
	if got := e.available(acc.ID); got != 0 {
		t.Fatalf("after half refund available %s, want 0", got)
	}
	flags, _ := e.svc.AbuseFlags(ctx, acc.ID)
	if len(flags) != 1 || flags[0].Kind != billing.AbuseRefundAfterConsumption || flags[0].Evidence["shortfall"] != "50" {
		t.Fatalf("flags %+v", flags)
	}
	// The rest refunded: nothing left to take, the other 250 is a shortfall.
	e.send(e.u("evt_r2"), "charge.refunded", time.Now(), chargeObj(e.u("ch_1"), pi, 4500, 4500))
	flags, _ = e.svc.AbuseFlags(ctx, acc.ID)
	if len(flags) != 2 || flags[1].Evidence["shortfall"] != "250" {
		t.Fatalf("flags %+v", flags)
	}
	ps, _ := e.st.ListPayments(ctx, acc.ID, 10)
	if len(ps) != 1 || ps[0].Status != billing.PaymentRefunded || ps[0].AmountRefunded != 4500 {
		t.Fatalf("payment %+v", ps)
	}
	// A late, smaller cumulative figure changes nothing.
	e.send(e.u("evt_r0"), "charge.refunded", time.Now(), chargeObj(e.u("ch_1"), pi, 4500, 1000))
	if flags, _ := e.svc.AbuseFlags(ctx, acc.ID); len(flags) != 2 {
		t.Fatalf("late event raised a flag")
	}
}

func TestFullRefundBeforeUseRevokesAll(t *testing.T) {
	e := newEnv(t)
	uid, acc := e.user()
	cus := e.customer(uid)
	before := e.available(acc.ID)
	e.send(e.u("evt_buy"), "checkout.session.completed", time.Now(), packSession(e.u("cs_f"), acc.ID, cus, "paid"))
	e.send(e.u("evt_ref"), "charge.refunded", time.Now(), chargeObj(e.u("ch_f"), "pi_"+e.u("cs_f"), 4500, 4500))
	if got := e.available(acc.ID); got != before {
		t.Fatalf("available %s, want %s", got, before)
	}
	if flags, _ := e.svc.AbuseFlags(context.Background(), acc.ID); len(flags) != 0 {
		t.Fatalf("no shortfall, no flag: %+v", flags)
	}
	// A refund of a charge we never fulfilled is stored and rejected, not retried.
	out := e.send(e.u("evt_unknown"), "charge.refunded", time.Now(), chargeObj(e.u("ch_u"), "pi_nothing", 100, 100))
	if out["outcome"] == "" {
		t.Fatalf("%v", out)
	}
}

// payment_intent.succeeded saves the card a pack checkout used, so auto-recharge can charge it.
func TestPaymentIntentSucceededSavesCard(t *testing.T) {
	e := newEnv(t)
	uid, acc := e.user()
	cus := e.customer(uid)
	e.send(e.u("evt_pi"), "payment_intent.succeeded", time.Now(), map[string]any{"id": e.u("pi_x"), "object": "payment_intent",
		"customer": cus, "payment_method": "pm_card_visa", "status": "succeeded", "amount": 4500, "currency": "usd",
		"metadata": map[string]string{"kind": "pack"}})
	got, err := e.st.CustomerOf(context.Background(), acc.ID)
	if err != nil || got.PaymentMethod != "pm_card_visa" {
		t.Fatalf("customer %+v %v", got, err)
	}
}
