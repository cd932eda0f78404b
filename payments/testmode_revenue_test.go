package payments_test

import (
	"context"
	"testing"
	"time"

	"creditline/billing"
)

// liveProvider is a provider that moves money (a stand-in for Stripe in this test).
type liveProvider struct{ billing.Payments }

func (liveProvider) TestMode() bool { return false }

// TestTestModePurchasesAreMarkedAndCountNoRevenue: a pack bought through the test-mode checkout
// is recorded as test (grant and payment) and left out of cash received; the same purchase
// fulfilled with a live provider counts.
func TestTestModePurchasesAreMarkedAndCountNoRevenue(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// This test's payments are made in a month of their own (the package's tests share a database).
	e.clock.Advance(time.Until(time.Date(2101, 3, 10, 12, 0, 0, 0, time.UTC)))
	from, to := time.Date(2101, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2101, 4, 1, 0, 0, 0, 0, time.UTC)

	uid, acc := e.user()
	start, err := e.svc.StartCheckout(ctx, uid, billing.KindPack, "growth")
	if err != nil {
		t.Fatal(err)
	}
	id := start.URL[len("/checkout/test/"):]
	if err := e.svc.CompleteTestCheckout(ctx, uid, id); err != nil {
		t.Fatal(err)
	}
	ps, err := e.st.ListPayments(ctx, acc.ID, 10)
	if err != nil || len(ps) != 1 || !ps[0].TestMode || ps[0].Amount != 4500 {
		t.Fatalf("test-mode payment %+v %v, want one marked test", ps, err)
	}
	gs, err := e.st.UsableGrants(ctx, acc.ID, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	marked := 0
	for _, g := range gs {
		if g.Source == "purchase" && g.TestMode {
			marked++
		}
		if g.Source == "trial" && g.TestMode {
			t.Errorf("the sign-up trial is not a test-mode payment: %+v", g)
		}
	}
	if marked != 1 {
		t.Fatalf("grants %+v: want the purchase marked test", gs)
	}
	cash, err := e.svc.CashReceived(ctx, from, to)
	if err != nil || len(cash) != 0 {
		t.Fatalf("cash received %+v %v: a test-mode purchase counted", cash, err)
	}

	// A live provider on the same database: its purchase counts.
	live := billing.NewService(e.st, billing.Options{Now: e.clock.Now, Payments: liveProvider{}})
	if err := live.LoadLiveBook(ctx); err != nil {
		t.Fatal(err)
	}
	cus := e.customer(uid)
	if _, err := live.ProcessPaymentEvent(ctx, billing.PaymentEvent{ID: e.u("evt_live"), Type: "checkout.session.completed",
		Created: e.clock.Now(), Checkout: &billing.CheckoutEvent{ID: e.u("cs_live"), ClientReferenceID: acc.ID, CustomerID: cus,
			Mode: "payment", PaymentStatus: "paid", Metadata: map[string]string{"kind": "pack", "pack": "growth"},
			AmountTotal: 4500, Currency: "usd", PaymentIntentID: e.u("pi_live"), Created: e.clock.Now()}}); err != nil {
		t.Fatal(err)
	}
	cash, err = e.svc.CashReceived(ctx, from, to)
	if err != nil || len(cash) != 1 || cash[0] != (billing.CurrencyAmount{Currency: "usd", Amount: 4500}) {
		t.Fatalf("cash received %+v %v, want usd 4500 from the live purchase only", cash, err)
	}
}

// TestTestModePathsRefuseOutsideTestMode: the test checkout, renewal, cancellation and SCA
// confirmation are not found with a live provider, or with none (a service that was never
// given one used to count as test mode).
func TestTestModePathsRefuseOutsideTestMode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	uid, acc := e.user()
	start, err := e.svc.StartCheckout(ctx, uid, billing.KindPack, "growth")
	if err != nil {
		t.Fatal(err)
	}
	id := start.URL[len("/checkout/test/"):]
	for name, p := range map[string]billing.Payments{"live": liveProvider{}, "none": nil} {
		svc := billing.NewService(e.st, billing.Options{Now: e.clock.Now, Payments: p})
		if svc.PaymentsTestMode() {
			t.Errorf("%s: PaymentsTestMode", name)
		}
		for what, err := range map[string]error{
			"checkout": svc.CompleteTestCheckout(ctx, uid, id),
			"renew":    svc.RenewTestSubscription(ctx, uid),
			"cancel":   svc.CancelTestSubscription(ctx, uid),
			"recharge": svc.CompleteTestRecharge(ctx, uid, "rch_x"),
		} {
			if billing.ErrorCode(err) != billing.ENotFound {
				t.Errorf("%s provider, test %s: %v, want not_found", name, what, err)
			}
		}
	}
	if ps, err := e.st.ListPayments(ctx, acc.ID, 10); err != nil || len(ps) != 0 {
		t.Errorf("payments %+v %v: nothing may be paid", ps, err)
	}
}
