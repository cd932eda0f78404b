package payments_test

import (
	"context"
	"testing"

	"creditline/billing"
)

// TestCheckoutInTheCustomersCurrency: a pack priced in EUR is bought in EUR through the
// test-mode checkout, which runs the same fulfilment (the pack's credits granted, the payment
// recorded in EUR); a currency the pack has no price in is refused naming currency.
func TestCheckoutInTheCustomersCurrency(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pack, err := e.svc.Pack(ctx, "growth")
	if err != nil {
		t.Fatal(err)
	}
	original := pack
	t.Cleanup(func() { // the package's tests share the database
		_ = e.svc.SavePackAs(ctx, billing.Op{Actor: billing.UserActor("usr_ops"), Reason: "restore"}, original)
	})
	pack.Prices = billing.Prices{"usd": 45_00, "eur": 41_50}
	if err := e.svc.SavePackAs(ctx, billing.Op{Actor: billing.UserActor("usr_ops"), Reason: "euro price"}, pack); err != nil {
		t.Fatal(err)
	}
	uid, acc := e.user()
	if _, err := e.svc.StartCheckoutIn(ctx, uid, billing.KindPack, "growth", "gbp"); billing.ErrorCode(err) != billing.EInvalid {
		t.Fatalf("GBP checkout of a pack without a GBP price = %v", err)
	}
	before := e.available(acc.ID)
	start, err := e.svc.StartCheckoutIn(ctx, uid, billing.KindPack, "growth", "eur")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.CompleteTestCheckout(ctx, uid, start.URL[len("/checkout/test/"):]); err != nil {
		t.Fatal(err)
	}
	ps, err := e.st.ListPayments(ctx, acc.ID, 10)
	if err != nil || len(ps) != 1 || ps[0].Amount != 41_50 || ps[0].Currency != "eur" {
		t.Fatalf("payments %+v %v, want one of 41.50 EUR", ps, err)
	}
	if got := e.available(acc.ID) - before; got != pack.GrantCredits() {
		t.Errorf("granted %s credits, want %s", got, pack.GrantCredits())
	}
}
