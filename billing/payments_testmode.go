package billing

import (
	"context"
	"strings"
	"time"
)

// Test mode stands in for Stripe when no keys are configured. Every action here builds the
// events Stripe would send and runs them through ProcessPaymentEvent, the webhook's own path,
// so test mode exercises the same fulfilment code. Event ids derive from what they describe,
// so a double submit is a replay.

func (s *Service) requireTestMode() error {
	if !s.PaymentsTestMode() {
		return Errorf(ENotFound, "Page not found.")
	}
	return nil
}

func suffix(id string) string {
	if i := strings.IndexByte(id, '_'); i >= 0 {
		return id[i+1:]
	}
	return id
}

// CompleteTestCheckout pays a test-mode checkout session: no money moves.
// Errors: not_found (not test mode, not the user's session), invalid_request (expired).
func (s *Service) CompleteTestCheckout(ctx context.Context, userID, id string) error {
	if err := s.requireTestMode(); err != nil {
		return err
	}
	rec, err := s.CheckoutForUser(ctx, userID, id)
	if err != nil {
		return err
	}
	switch rec.Status {
	case "complete":
		return nil
	case "expired":
		return Errorf(EInvalid, "This checkout session has expired. Start again from the billing page.")
	}
	cust, err := s.store.CustomerOf(ctx, rec.AccountID)
	if err != nil {
		return err
	}
	var evs []PaymentEvent
	if rec.Kind == KindPack {
		evs = s.testPackEvents(rec, cust)
	} else {
		evs, err = s.testPlanEvents(ctx, rec, cust)
		if err != nil {
			return err
		}
	}
	return s.processAll(ctx, evs)
}

func (s *Service) processAll(ctx context.Context, evs []PaymentEvent) error {
	for _, ev := range evs {
		if _, err := s.ProcessPaymentEvent(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) testPackEvents(rec CheckoutRecord, cust Customer) []PaymentEvent {
	now, pi := s.Now(), "pi_test_"+suffix(rec.ID)
	return []PaymentEvent{
		{ID: "evt_test_" + suffix(rec.ID) + "_completed", Type: "checkout.session.completed", Created: now, Checkout: &CheckoutEvent{
			ID: rec.ID, ClientReferenceID: rec.AccountID, CustomerID: cust.CustomerID, Mode: "payment", PaymentStatus: "paid",
			Metadata: map[string]string{"kind": KindPack, "pack": rec.ItemKey}, AmountTotal: rec.Amount, Currency: rec.Currency,
			PaymentIntentID: pi, Created: rec.CreatedAt}},
		// setup_future_usage=off_session: the card is saved for auto-recharge.
		{ID: "evt_test_" + suffix(rec.ID) + "_pi", Type: "payment_intent.succeeded", Created: now, PaymentIntent: &PaymentIntentEvent{
			ID: pi, CustomerID: cust.CustomerID, Status: "succeeded", PaymentMethodID: "pm_test_card_" + suffix(cust.CustomerID),
			Amount: rec.Amount, Currency: rec.Currency, Metadata: map[string]string{"kind": KindPack, "account": rec.AccountID}}},
	}
}

// testPlanEvents subscribes (checkout completed, subscription created, first invoice paid)
// or, on a live subscription, changes its plan (the new allotment arrives with the next invoice).
func (s *Service) testPlanEvents(ctx context.Context, rec CheckoutRecord, cust Customer) ([]PaymentEvent, error) {
	now, sx := s.Now(), suffix(rec.ID)
	subID, change := "sub_test_"+sx, false
	if cur, err := s.store.CurrentSubscription(ctx, rec.AccountID); err == nil && cur.Live() {
		subID, change = cur.ID, true
	} else if err != nil && ErrorCode(err) != ENotFound {
		return nil, err
	}
	meta := map[string]string{"kind": KindPlan, "plan": rec.ItemKey}
	end := now.AddDate(0, 1, 0)
	evs := []PaymentEvent{
		{ID: "evt_test_" + sx + "_completed", Type: "checkout.session.completed", Created: now, Checkout: &CheckoutEvent{
			ID: rec.ID, ClientReferenceID: rec.AccountID, CustomerID: cust.CustomerID, Mode: "subscription", PaymentStatus: "paid",
			Metadata: meta, AmountTotal: rec.Amount, Currency: rec.Currency, SubscriptionID: subID, Created: rec.CreatedAt}},
		{ID: "evt_test_" + sx + "_sub", Type: "customer.subscription.updated", Created: now, Subscription: &SubscriptionEvent{
			ID: subID, CustomerID: cust.CustomerID, AccountID: rec.AccountID, PlanKey: rec.ItemKey, Status: "active", CurrentPeriodStart: now, CurrentPeriodEnd: end}},
	}
	if change {
		return evs, nil
	}
	evs[1].Type = "customer.subscription.created"
	return append(evs, s.testInvoice("in_test_"+sx, subID, rec.AccountID, cust.CustomerID, rec.ItemKey, rec.Amount, now, end)), nil
}

func (s *Service) testInvoice(id, subID, accountID, customerID, planKey string, amount int64, start, end time.Time) PaymentEvent {
	return PaymentEvent{ID: "evt_test_" + suffix(id) + "_paid", Type: "invoice.paid", Created: s.Now(), Invoice: &InvoiceEvent{
		ID: id, CustomerID: customerID, SubscriptionID: subID, PlanKey: planKey, AccountID: accountID, AmountPaid: amount,
		Currency: "usd", PaymentIntentID: "pi_test_" + suffix(id), PeriodStart: start, PeriodEnd: end}}
}

// RenewTestSubscription simulates the next period's paid invoice (allotment and rollover).
// Errors: not_found (not test mode), invalid_request (no live subscription).
func (s *Service) RenewTestSubscription(ctx context.Context, userID string) error {
	if err := s.requireTestMode(); err != nil {
		return err
	}
	acc, err := s.buyerAccount(ctx, userID)
	if err != nil {
		return err
	}
	sub, err := s.store.CurrentSubscription(ctx, acc.ID)
	if (err == nil && !sub.Live()) || ErrorCode(err) == ENotFound {
		return Errorf(EInvalid, "There is no subscription to renew: subscribe to a plan first.")
	}
	if err != nil {
		return err
	}
	plan, err := s.Plan(ctx, sub.PlanKey)
	if err != nil {
		return err
	}
	cust, err := s.store.CustomerOf(ctx, acc.ID)
	if err != nil {
		return err
	}
	start := s.Now()
	if sub.CurrentPeriodEnd != nil {
		start = *sub.CurrentPeriodEnd
	}
	end, inv := start.AddDate(0, 1, 0), NewID("in_test")
	return s.processAll(ctx, []PaymentEvent{
		s.testInvoice(inv, sub.ID, acc.ID, cust.CustomerID, plan.Key, plan.PriceMonthly["usd"], start, end),
		{ID: "evt_test_" + suffix(inv) + "_sub", Type: "customer.subscription.updated", Created: s.Now(), Subscription: &SubscriptionEvent{
			ID: sub.ID, CustomerID: cust.CustomerID, AccountID: acc.ID, PlanKey: plan.Key, Status: "active", CurrentPeriodStart: start, CurrentPeriodEnd: end}},
	})
}

// CancelTestSubscription simulates customer.subscription.deleted: back to the Free plan.
func (s *Service) CancelTestSubscription(ctx context.Context, userID string) error {
	if err := s.requireTestMode(); err != nil {
		return err
	}
	acc, err := s.buyerAccount(ctx, userID)
	if err != nil {
		return err
	}
	sub, err := s.store.CurrentSubscription(ctx, acc.ID)
	if (err == nil && !sub.Live()) || ErrorCode(err) == ENotFound {
		return Errorf(EInvalid, "There is no subscription to cancel.")
	}
	if err != nil {
		return err
	}
	return s.processAll(ctx, []PaymentEvent{{ID: "evt_test_" + suffix(sub.ID) + "_deleted", Type: "customer.subscription.deleted",
		Created: s.Now(), Subscription: &SubscriptionEvent{ID: sub.ID, AccountID: acc.ID, PlanKey: sub.PlanKey, Status: "canceled"}}})
}

// RechargeForUser returns a recharge of the user's account. Errors: not_found
// (missing, or another account's); a failed read is returned as it is.
func (s *Service) RechargeForUser(ctx context.Context, userID, id string) (Recharge, error) {
	acc, err := s.buyerAccount(ctx, userID)
	if err != nil {
		return Recharge{}, err
	}
	r, err := s.store.RechargeByID(ctx, id)
	return owned(r, err, r.AccountID == acc.ID, "No such recharge.")
}

// CompleteTestRecharge simulates the customer passing an SCA challenge in test mode.
// Errors: not_found, invalid_request (nothing to confirm).
func (s *Service) CompleteTestRecharge(ctx context.Context, userID, id string) error {
	if err := s.requireTestMode(); err != nil {
		return err
	}
	r, err := s.RechargeForUser(ctx, userID, id)
	if err != nil {
		return err
	}
	if r.Status != RechargeRequiresAction {
		return Errorf(EInvalid, "This payment does not need your confirmation.")
	}
	pi := "pi_test_" + suffix(r.ID)
	if r.PaymentIntent != nil {
		pi = *r.PaymentIntent
	}
	return s.processAll(ctx, []PaymentEvent{settledEvent(r, ChargeResult{PaymentIntentID: pi, Status: ChargeSucceeded}, s.Now())})
}
