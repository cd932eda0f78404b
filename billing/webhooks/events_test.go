package webhooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/webhooks"
	"creditline/payments"
	"creditline/store"
	"creditline/store/pgtest"
)

// The events that happen without alerts reach webhooks: an auto-recharge declined, then one
// that succeeds, and a failed subscription invoice (replayed by the provider: sent once).
func TestAutoRechargeAndPaymentFailureAreAnnounced(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	st := store.New(db)
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	pay := payments.NewTestMode()
	svc := billing.NewService(st, billing.Options{Now: c.Now, PasswordCost: 4, Payments: pay})
	if err := svc.SeedCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	hooks := webhooks.New(svc, st.Webhooks(), webhooks.Options{AllowPrivate: true})
	w := svc.NewWorker(slog.New(slog.NewTextHandler(io.Discard, nil)))
	hooks.Register(w)
	run := func() {
		for w.RunDue(ctx) > 0 {
		}
	}
	u, acc, err := svc.SignUp(ctx, billing.SignUpInput{Name: "Hooks", Email: fmt.Sprintf("hooks-%d@example.com", time.Now().UnixNano()), Password: "long-enough-pw"})
	if err != nil {
		t.Fatal(err)
	}
	start, err := svc.StartCheckout(ctx, u.ID, billing.KindPack, "growth")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.CompleteTestCheckout(ctx, u.ID, start.SessionID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SaveAutoRecharge(ctx, u.ID, billing.AutoRechargeForm{Enabled: true, Threshold: "400", PackKey: "starter", CapCount: "10", CapAmount: "500"}); err != nil {
		t.Fatal(err)
	}
	rcv := newReceiver(t, 200, "")
	if _, err := hooks.CreateEndpoint(ctx, acc.ID, webhooks.RoleAPIKey, webhooks.EndpointInput{URL: rcv.URL}, keyOp()); err != nil {
		t.Fatal(err)
	}
	debit := func(n int, credits string) {
		if _, err := svc.Debit(ctx, billing.DebitInput{AccountID: acc.ID, Amount: billing.MustCredits(credits), IdempotencyKey: fmt.Sprint("d-", n)}); err != nil {
			t.Fatal(err)
		}
		run()
	}
	pay.Plan(acc.ID, billing.ChargeDeclined)
	debit(1, "200")
	c.Add(61 * time.Minute)
	debit(2, "10")

	cust, err := st.CustomerOf(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	ev := billing.PaymentEvent{ID: "evt_inv_failed_" + acc.ID, Type: "invoice.payment_failed", Created: c.Now(),
		Invoice: &billing.InvoiceEvent{ID: "in_" + acc.ID, CustomerID: cust.CustomerID, AccountID: acc.ID, Currency: "usd"}}
	for range 2 {
		if _, err := svc.ProcessPaymentEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	run()

	var types []string
	for _, r := range rcv.got() {
		var b struct {
			Type    string         `json:"type"`
			Account string         `json:"account"`
			Data    map[string]any `json:"data"`
		}
		if err := json.Unmarshal(r.body, &b); err != nil || b.Account != acc.ID {
			t.Fatalf("body %s: %v", r.body, err)
		}
		types = append(types, b.Type)
	}
	want := []string{billing.EventAutoRechargeFailed, billing.EventAutoRechargeSucceeded, billing.EventPaymentFailed}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Fatalf("received %v, want %v", types, want)
	}
}
