package billing

import "context"

// BillingOverview is everything the billing page shows for one account.
type BillingOverview struct {
	Account       Account
	Balance       BalanceSummary
	Plans         []Plan
	Packs         []Pack
	Subscription  *Subscription // the newest, live or not; nil when none
	Payments      []Payment
	AutoRecharge  AutoRechargeSettings
	Recharges     []Recharge
	Notifications []Notification
	HasCard       bool
	TestMode      bool
}

// BillingOverview gathers the user's account's billing state. Errors: not_found.
func (s *Service) BillingOverview(ctx context.Context, userID string) (BillingOverview, error) {
	acc, err := s.buyerAccount(ctx, userID)
	if err != nil {
		return BillingOverview{}, err
	}
	o := BillingOverview{Account: acc, TestMode: s.PaymentsTestMode()}
	if o.Balance, err = s.Balance(ctx, acc.ID); err != nil {
		return o, err
	}
	if o.Plans, err = s.Plans(ctx); err != nil {
		return o, err
	}
	if o.Packs, err = s.Packs(ctx); err != nil {
		return o, err
	}
	sub, err := s.store.CurrentSubscription(ctx, acc.ID)
	switch {
	case err == nil:
		o.Subscription = &sub
	case ErrorCode(err) != ENotFound:
		return o, err
	}
	if o.Payments, err = s.store.ListPayments(ctx, acc.ID, 50); err != nil {
		return o, err
	}
	if o.AutoRecharge, err = s.AutoRechargeSettings(ctx, acc.ID); err != nil {
		return o, err
	}
	if o.Recharges, err = s.store.ListRecharges(ctx, acc.ID, 10); err != nil {
		return o, err
	}
	if o.Notifications, err = s.store.ListNotifications(ctx, acc.ID, 10); err != nil {
		return o, err
	}
	c, err := s.store.CustomerOf(ctx, acc.ID)
	if err != nil && ErrorCode(err) != ENotFound {
		return o, err
	}
	o.HasCard = c.PaymentMethod != ""
	return o, nil
}

// PaymentForUser returns a payment of the user's account. Errors: not_found
// (missing, or another account's); a failed read is returned as it is.
func (s *Service) PaymentForUser(ctx context.Context, userID, id string) (Payment, error) {
	acc, err := s.buyerAccount(ctx, userID)
	if err != nil {
		return Payment{}, err
	}
	p, err := s.store.PaymentByID(ctx, id)
	return owned(p, err, p.AccountID == acc.ID, "No such payment.")
}

// ReceiptURL is the provider's receipt for a payment: the invoice page for a plan, the
// charge receipt otherwise; "" in test mode, where the portal shows its own.
// Errors: not_found.
func (s *Service) ReceiptURL(ctx context.Context, p Payment) (string, error) {
	if s.PaymentsTestMode() {
		return "", nil
	}
	if p.ReceiptURL != "" {
		return p.ReceiptURL, nil
	}
	if p.PaymentIntent == nil {
		return "", Errorf(ENotFound, "Stripe has no receipt for this payment.")
	}
	pr, err := s.provider()
	if err != nil {
		return "", err
	}
	return pr.ReceiptURL(ctx, *p.PaymentIntent)
}
