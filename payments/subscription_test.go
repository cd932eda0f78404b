package payments_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"creditline/billing"
)

func subObj(id, acc, cus, plan, status string, periodEnd time.Time) map[string]any {
	return map[string]any{"id": id, "object": "subscription", "customer": cus, "status": status,
		"current_period_end": periodEnd.Unix(), "metadata": map[string]string{"account": acc, "plan": plan},
		"items": map[string]any{"object": "list", "data": []any{map[string]any{"id": "si_" + id, "object": "subscription_item",
			"price": map[string]any{"id": "price_" + plan, "object": "price", "lookup_key": plan}}}}}
}

func invoiceObj(id, acc, cus, sub, plan string, amount int64) map[string]any {
	return map[string]any{"id": id, "object": "invoice", "customer": cus, "subscription": sub, "amount_paid": amount,
		"currency": "usd", "payment_intent": "pi_" + id, "hosted_invoice_url": "https://invoice.stripe.com/i/" + id,
		"subscription_details": map[string]any{"metadata": map[string]string{"account": acc, "plan": plan}}}
}

func subSession(id, acc, cus, sub, plan string) map[string]any {
	return map[string]any{"id": id, "object": "checkout.session", "client_reference_id": acc, "customer": cus,
		"mode": "subscription", "payment_status": "paid", "subscription": sub, "amount_total": 1200, "currency": "usd",
		"metadata": map[string]string{"kind": "plan", "plan": plan}}
}

// Subscribing to Basic then upgrading to Pro ends on Pro with the first allotment, whatever
// order the four events arrive in.
func TestSubscriptionEventsInAnyOrderEndTheSame(t *testing.T) {
	e := newEnv(t)
	t0 := time.Now().Add(-time.Minute)
	end := t0.AddDate(0, 1, 0)
	orders := [][]int{{0, 1, 2, 3}, {2, 3, 1, 0}, {3, 2, 0, 1}}
	var results []string
	for n, order := range orders {
		uid, acc := e.user()
		cus := e.customer(uid)
		sub := e.u("sub_" + acc.ID)
		evs := []func(){
			func() {
				e.send(e.u("evt_cs_"+acc.ID), "checkout.session.completed", t0, subSession(e.u("cs_"+acc.ID), acc.ID, cus, sub, "basic"))
			},
			func() {
				e.send(e.u("evt_c_"+acc.ID), "customer.subscription.created", t0, subObj(sub, acc.ID, cus, "basic", "active", end))
			},
			func() {
				e.send(e.u("evt_u_"+acc.ID), "customer.subscription.updated", t0.Add(time.Second), subObj(sub, acc.ID, cus, "pro", "active", end))
			},
			func() {
				e.send(e.u("evt_i_"+acc.ID), "invoice.paid", t0, invoiceObj(e.u("in_"+acc.ID), acc.ID, cus, sub, "basic", 1200))
			},
		}
		before := e.available(acc.ID)
		for _, i := range order {
			evs[i]()
		}
		evs[order[0]]() // a replay changes nothing
		a := e.account(acc.ID)
		got := a.PlanKey + " " + (e.available(acc.ID) - before).String()
		if got != "pro 500" {
			t.Errorf("order %d %v: plan and credits %q, want \"pro 500\"", n, order, got)
		}
		results = append(results, got)
	}
	// Deleted is final: an older update arriving later does not revive the plan.
	uid, acc := e.user()
	cus := e.customer(uid)
	e.send(e.u("evt_d"), "customer.subscription.deleted", t0.Add(time.Hour), subObj(e.u("sub_d"), acc.ID, cus, "pro", "canceled", end))
	e.send(e.u("evt_old"), "customer.subscription.updated", t0, subObj(e.u("sub_d"), acc.ID, cus, "pro", "active", end))
	if p := e.account(acc.ID).PlanKey; p != "free" {
		t.Fatalf("after deleted then an older update: plan %s", p)
	}
}

func TestDeletedSubscriptionReturnsToFree(t *testing.T) {
	e := newEnv(t)
	uid, acc := e.user()
	cus := e.customer(uid)
	end := time.Now().AddDate(0, 1, 0)
	e.send(e.u("evt_1"), "customer.subscription.created", time.Now(), subObj(e.u("sub_1"), acc.ID, cus, "pro", "active", end))
	if p := e.account(acc.ID).PlanKey; p != "pro" {
		t.Fatalf("plan %s", p)
	}
	e.send(e.u("evt_2"), "customer.subscription.deleted", time.Now().Add(time.Second), subObj(e.u("sub_1"), acc.ID, cus, "pro", "canceled", end))
	if p := e.account(acc.ID).PlanKey; p != "free" {
		t.Fatalf("plan %s after delete", p)
	}
}

// invoice.paid twice grants once; the next period applies the plan's rollover policy.
func TestInvoicePaidOncePerInvoiceWithRollover(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	roll := billing.SeedPlans()[1]
	roll.Key, roll.Name, roll.CreditsPerPeriod = "roll", "Roll", c("100")
	roll.Rollover = billing.Rollover{Policy: billing.RolloverCapped, CapCredits: c("30")}
	if err := e.svc.SavePlan(ctx, roll); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		plan string
		want billing.Credits // after: allotment, spend 50, second allotment
	}{{"basic", c("500")}, {"roll", c("130")}} {
		uid, acc := e.user()
		cus := e.customer(uid)
		if _, err := e.svc.Revoke(ctx, billing.RevokeInput{GrantID: trialGrant(t, e, acc.ID), Reason: "test: no trial"}); err != nil {
			t.Fatal(err)
		}
		e.send(e.u("evt_s"+tc.plan), "customer.subscription.created", time.Now(), subObj(e.u("sub_"+tc.plan), acc.ID, cus, tc.plan, "active", time.Now()))
		e.send(e.u("evt_i1"+tc.plan), "invoice.paid", time.Now(), invoiceObj(e.u("in_1"+tc.plan), acc.ID, cus, e.u("sub_"+tc.plan), tc.plan, 1200))
		e.send(e.u("evt_i1b"+tc.plan), "invoice.paid", time.Now(), invoiceObj(e.u("in_1"+tc.plan), acc.ID, cus, e.u("sub_"+tc.plan), tc.plan, 1200))
		if _, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc.ID, Amount: c("50"), IdempotencyKey: "use-" + tc.plan}); err != nil {
			t.Fatal(err)
		}
		e.send(e.u("evt_i2"+tc.plan), "invoice.paid", time.Now(), invoiceObj(e.u("in_2"+tc.plan), acc.ID, cus, e.u("sub_"+tc.plan), tc.plan, 1200))
		if got := e.available(acc.ID); got != tc.want {
			t.Errorf("%s: available %s, want %s", tc.plan, got, tc.want)
		}
	}
}

func trialGrant(t *testing.T, e *env, accountID string) string {
	b, err := e.svc.Balance(context.Background(), accountID)
	if err != nil || len(b.Grants) != 1 {
		t.Fatalf("grants %+v %v", b.Grants, err)
	}
	return b.Grants[0].ID
}

func TestInvoicePaymentFailedMarksPastDueAndNotifies(t *testing.T) {
	e := newEnv(t)
	uid, acc := e.user()
	cus := e.customer(uid)
	e.send(e.u("evt_s"), "customer.subscription.created", time.Now(), subObj(e.u("sub_f"), acc.ID, cus, "pro", "active", time.Now()))
	e.send(e.u("evt_i"), "invoice.paid", time.Now(), invoiceObj(e.u("in_f1"), acc.ID, cus, e.u("sub_f"), "pro", 4900))
	had := e.available(acc.ID)
	e.send(e.u("evt_f"), "invoice.payment_failed", time.Now(), invoiceObj(e.u("in_f2"), acc.ID, cus, e.u("sub_f"), "pro", 0))
	e.send(e.u("evt_f"), "invoice.payment_failed", time.Now(), invoiceObj(e.u("in_f2"), acc.ID, cus, e.u("sub_f"), "pro", 0))
	sub, err := e.st.CurrentSubscription(context.Background(), acc.ID)
	if err != nil || sub.Status != "past_due" {
		t.Fatalf("subscription %+v %v", sub, err)
	}
	ns, _ := e.svc.Notifications(context.Background(), acc.ID)
	if len(ns) != 1 || ns[0].Kind != "payment_failed" {
		t.Fatalf("notifications %+v", ns)
	}
	if e.available(acc.ID) != had || e.account(acc.ID).PlanKey != "pro" {
		t.Fatal("granted credits and the plan stay while past due")
	}
}

// A handler failure answers 500 and records the attempt; the retry succeeds once it can.
func TestHandlerFailureAnswers500AndRetrySucceeds(t *testing.T) {
	e := newEnv(t)
	uid, acc := e.user()
	cus := e.customer(uid)
	inv := invoiceObj(e.u("in_early"), acc.ID, cus, e.u("sub_late"), "", 1200)
	inv["subscription_details"] = map[string]any{"metadata": map[string]string{}}
	body := event(e.u("evt_early"), "invoice.paid", time.Now(), inv)
	if st, _ := e.sendAt(body, time.Now(), secret); st != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", st)
	}
	if rec, _ := e.svc.PaymentEvent(context.Background(), e.u("evt_early")); rec.Status != billing.EventFailed {
		t.Fatalf("event %+v", rec)
	}
	e.send(e.u("evt_sub"), "customer.subscription.created", time.Now(), subObj(e.u("sub_late"), acc.ID, cus, "basic", "active", time.Now()))
	before := e.available(acc.ID)
	if st, _ := e.sendAt(body, time.Now(), secret); st != http.StatusOK {
		t.Fatalf("retry status %d", st)
	}
	if e.available(acc.ID)-before != c("500") {
		t.Fatal("the retried invoice should grant the allotment")
	}
}
