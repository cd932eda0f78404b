package billing

import (
	"context"
	"fmt"
)

// FinishRecharge returns where the customer completes an auto-recharge their bank wants them
// to confirm: the bank's page when Stripe gave one, else a Checkout session for the same
// amount (metadata kind auto_recharge), whose completion runs the recharge's success path.
// Errors: not_found, invalid_request (nothing to finish).
func (s *Service) FinishRecharge(ctx context.Context, userID, id string) (string, error) {
	p, err := s.provider()
	if err != nil {
		return "", err
	}
	r, err := s.RechargeForUser(ctx, userID, id)
	if err != nil {
		return "", err
	}
	if r.Status != RechargeRequiresAction {
		return "", Errorf(EInvalid, "This payment does not need your confirmation.")
	}
	if r.ActionURL != "" {
		return r.ActionURL, nil
	}
	cust, err := s.store.CustomerOf(ctx, r.AccountID)
	if err != nil {
		return "", err
	}
	in := CheckoutInput{AccountID: r.AccountID, CustomerID: cust.CustomerID, Kind: "auto_recharge", Key: r.ID,
		Name: fmt.Sprintf("Auto-recharge: %s credits", r.Credits.Display()), Amount: r.Amount, Currency: r.Currency,
		SuccessURL: checkoutSuccessURL, CancelURL: billingPath}
	sess, err := p.CreateCheckoutSession(ctx, in)
	if err != nil {
		return "", err
	}
	rec := CheckoutRecord{ID: sess.ID, AccountID: r.AccountID, Kind: in.Kind, ItemKey: r.ID, Amount: r.Amount, Currency: r.Currency,
		Status: "open", URL: sess.URL, CreatedAt: s.Now()}
	if err := s.store.InTx(ctx, func(tx Tx) error { return tx.InsertCheckout(ctx, rec) }); err != nil {
		return "", err
	}
	return sess.URL, nil
}

// onCheckoutRecharge fulfils a recharge finished on session through Checkout.
func (s *Service) onCheckoutRecharge(ctx context.Context, tx Tx, ev PaymentEvent, accID string) (string, error) {
	c := ev.Checkout
	if c.PaymentStatus != "paid" {
		return "awaiting payment (" + c.PaymentStatus + ")", nil
	}
	r, err := tx.RechargeForUpdate(ctx, c.Metadata["recharge"])
	if err != nil {
		return rejected(err)
	}
	if r.AccountID != accID {
		return "rejected: recharge of another account", nil
	}
	out, err := s.rechargeSucceeded(ctx, tx, r.ID, c.PaymentIntentID, eventActor(ev))
	if err != nil {
		return "", err
	}
	return out, s.completeCheckout(ctx, tx, c.ID)
}
