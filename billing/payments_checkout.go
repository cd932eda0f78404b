package billing

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Checkout paths: where the provider sends the customer back.
const (
	billingPath        = "/billing"
	checkoutSuccessURL = "/billing?checkout=success"
	checkoutCancelURL  = "/billing?checkout=cancelled"
)

// CheckoutStart is where to send the customer: a Checkout page, or the customer portal for a
// plan change on a live subscription.
type CheckoutStart struct {
	URL       string
	SessionID string
}

// StartCheckout opens a Checkout session for a pack or plan on the user's account, in USD.
// Errors: not_found (account, pack, plan), invalid_request (retired item, free plan, current plan).
func (s *Service) StartCheckout(ctx context.Context, userID, kind, key string) (CheckoutStart, error) {
	return s.StartCheckoutIn(ctx, userID, kind, key, "usd")
}

// StartCheckoutIn is StartCheckout in the customer's chosen currency ("" is USD); the item
// must carry a price in it. Errors: as StartCheckout, and invalid_request naming currency.
func (s *Service) StartCheckoutIn(ctx context.Context, userID, kind, key, currency string) (CheckoutStart, error) {
	return s.StartCheckoutFrom(ctx, userID, kind, key, currency, "")
}

// StartCheckoutFrom is StartCheckoutIn from the client address ip ("" when unknown), whose
// network abuse detection keeps with the session (card testing from one network).
func (s *Service) StartCheckoutFrom(ctx context.Context, userID, kind, key, currency, ip string) (CheckoutStart, error) {
	currency = currencyOr(currency)
	if !slices.Contains(Currencies, currency) {
		return CheckoutStart{}, FieldError("currency", "Choose one of USD, EUR or GBP.")
	}
	p, err := s.provider()
	if err != nil {
		return CheckoutStart{}, err
	}
	acc, err := s.buyerAccount(ctx, userID)
	if err != nil {
		return CheckoutStart{}, err
	}
	in := CheckoutInput{AccountID: acc.ID, Kind: kind, Key: key, Currency: currency, SuccessURL: checkoutSuccessURL, CancelURL: checkoutCancelURL}
	if redirect, err := s.checkoutItem(ctx, p, acc, &in); err != nil || redirect != nil {
		if redirect == nil {
			redirect = &CheckoutStart{}
		}
		return *redirect, err
	}
	cust, err := s.ensureCustomer(ctx, p, acc, userID)
	if err != nil {
		return CheckoutStart{}, err
	}
	in.CustomerID = cust.CustomerID
	sess, err := p.CreateCheckoutSession(ctx, in)
	if err != nil {
		return CheckoutStart{}, err
	}
	rec := CheckoutRecord{ID: sess.ID, AccountID: acc.ID, Kind: kind, ItemKey: key, Amount: in.Amount, Currency: in.Currency,
		Status: "open", URL: sess.URL, CreatedAt: s.Now()}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.InsertCheckout(ctx, rec); err != nil {
			return err
		}
		return recordCheckoutIP(ctx, tx, rec.ID, acc.ID, ip, rec.CreatedAt)
	})
	if err != nil {
		return CheckoutStart{}, err
	}
	return CheckoutStart{URL: sess.URL, SessionID: sess.ID}, nil
}

// checkoutItem fills in the item's name and price; for a plan change on a live Stripe
// subscription it returns the portal to go to instead.
func (s *Service) checkoutItem(ctx context.Context, p Payments, acc Account, in *CheckoutInput) (*CheckoutStart, error) {
	switch in.Kind {
	case KindPack:
		pack, err := s.Pack(ctx, in.Key)
		if err != nil {
			return nil, err
		}
		if !pack.Active {
			return nil, Errorf(EInvalid, "The %s pack is no longer sold.", pack.Name)
		}
		in.Name = fmt.Sprintf("%s pack: %s credits", pack.Name, pack.GrantCredits().Display())
		amount, ok := pack.Prices[in.Currency]
		if !ok || amount <= 0 {
			return nil, FieldError("currency", "The %s pack has no %s price.", pack.Name, strings.ToUpper(in.Currency))
		}
		in.Amount = amount
	case KindPlan:
		plan, err := s.Plan(ctx, in.Key)
		if err != nil {
			return nil, err
		}
		if !plan.Active || plan.PriceMonthly["usd"] <= 0 {
			return nil, Errorf(EInvalid, "The %s plan cannot be bought.", plan.Name)
		}
		sub, err := s.store.CurrentSubscription(ctx, acc.ID)
		if err != nil && ErrorCode(err) != ENotFound {
			return nil, err
		}
		if err == nil && sub.Live() {
			if sub.PlanKey == in.Key {
				return nil, Errorf(EInvalid, "You are already on the %s plan.", plan.Name)
			}
			if !p.TestMode() {
				// A live subscription changes plan in the customer portal, so Stripe prorates it.
				start, err := s.portalForChange(ctx, p, acc.ID, sub.ID)
				return &start, err
			}
		}
		in.Name = fmt.Sprintf("%s plan: %s credits a month", plan.Name, plan.CreditsPerPeriod.Display())
		amount, ok := plan.PriceMonthly[in.Currency]
		if !ok || amount <= 0 {
			return nil, FieldError("currency", "The %s plan has no %s price.", plan.Name, strings.ToUpper(in.Currency))
		}
		in.Amount = amount
	default:
		return nil, Errorf(EInvalid, "Choose a pack or a plan.")
	}
	return nil, nil
}

func (s *Service) portalForChange(ctx context.Context, p Payments, accountID, subID string) (CheckoutStart, error) {
	cust, err := s.store.CustomerOf(ctx, accountID)
	if err != nil {
		return CheckoutStart{}, err
	}
	url, err := p.CreatePortalSession(ctx, PortalInput{CustomerID: cust.CustomerID, ReturnURL: billingPath, SubscriptionID: subID})
	return CheckoutStart{URL: url}, err
}

// ensureCustomer returns the account's provider customer, creating it on first purchase.
// Two racing first purchases may create two provider customers; the first stored wins.
func (s *Service) ensureCustomer(ctx context.Context, p Payments, acc Account, userID string) (Customer, error) {
	c, err := s.store.CustomerOf(ctx, acc.ID)
	if err == nil || ErrorCode(err) != ENotFound {
		return c, err
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return Customer{}, err
	}
	id, err := p.CreateCustomer(ctx, CustomerInput{AccountID: acc.ID, Name: acc.Name, Email: u.Email})
	if err != nil {
		return Customer{}, err
	}
	c = Customer{AccountID: acc.ID, CustomerID: id, CreatedAt: s.Now()}
	err = s.store.InTx(ctx, func(tx Tx) error { return tx.InsertCustomer(ctx, c) })
	if ErrorCode(err) == EConflict {
		return s.store.CustomerOf(ctx, acc.ID)
	}
	return c, err
}

// PortalURL opens the provider's customer portal for the user's account.
// Errors: invalid_request (no customer yet), not_found.
func (s *Service) PortalURL(ctx context.Context, userID string) (string, error) {
	p, err := s.provider()
	if err != nil {
		return "", err
	}
	acc, err := s.buyerAccount(ctx, userID)
	if err != nil {
		return "", err
	}
	cust, err := s.store.CustomerOf(ctx, acc.ID)
	if ErrorCode(err) == ENotFound {
		return "", Errorf(EInvalid, "There is nothing to manage yet: buy a pack or subscribe first.")
	}
	if err != nil {
		return "", err
	}
	return p.CreatePortalSession(ctx, PortalInput{CustomerID: cust.CustomerID, ReturnURL: billingPath})
}

// onCheckoutPaid fulfils a paid session once, whichever of completed and
// async_payment_succeeded arrives first (or twice).
func (s *Service) onCheckoutPaid(ctx context.Context, tx Tx, ev PaymentEvent) (string, error) {
	c := ev.Checkout
	accID, err := s.accountOfCustomer(ctx, tx, c.ClientReferenceID, c.CustomerID)
	if err != nil {
		return rejected(err)
	}
	if c.Mode == "subscription" || c.Metadata["kind"] == KindPlan {
		return s.onCheckoutSubscription(ctx, tx, ev, accID)
	}
	if c.Metadata["kind"] == "auto_recharge" {
		return s.onCheckoutRecharge(ctx, tx, ev, accID)
	}
	if c.PaymentStatus != "paid" {
		return "awaiting payment (" + c.PaymentStatus + ")", nil
	}
	pack, err := s.Pack(ctx, c.Metadata["pack"])
	if err != nil {
		return rejected(err)
	}
	out, err := s.fulfilPack(ctx, tx, ev, accID, pack)
	if err != nil {
		return "", err
	}
	return out, s.completeCheckout(ctx, tx, c.ID)
}

// fulfilPack grants a pack bought by a session; the grant's key is derived from the session.
func (s *Service) fulfilPack(ctx context.Context, tx Tx, ev PaymentEvent, accID string, pack Pack) (string, error) {
	c := ev.Checkout
	key := "checkout:" + c.ID
	if _, err := tx.GrantByKey(ctx, accID, key); err == nil {
		return "already fulfilled", nil
	} else if ErrorCode(err) != ENotFound {
		return "", err
	}
	bought := c.Created
	if bought.IsZero() {
		bought = ev.Created
	}
	exp := pack.ExpiresAt(bought)
	if exp != nil && !exp.After(s.Now()) {
		exp = pack.ExpiresAt(s.Now())
	}
	res, err := s.grantTx(ctx, tx, GrantInput{AccountID: accID, Source: "purchase", Amount: pack.GrantCredits(), ExpiresAt: exp,
		PaidAmount: c.AmountTotal, Currency: c.Currency, StripeCheckoutSession: c.ID, StripePaymentIntent: c.PaymentIntentID,
		IdempotencyKey: key, Actor: eventActor(ev), Reason: pack.Name + " pack", TestMode: s.PaymentsTestMode()})
	if err != nil {
		return "", err
	}
	if err := s.auditGrantBy(ctx, tx, eventActor(ev), res); err != nil {
		return "", err
	}
	err = tx.InsertPayment(ctx, Payment{ID: NewID("pay"), AccountID: accID, Kind: KindPack, Ref: c.ID, PaymentIntent: optional(c.PaymentIntentID),
		Description: pack.Name + " pack", Amount: c.AmountTotal, Currency: currencyOr(c.Currency), Credits: res.Grant.Amount,
		Status: PaymentSucceeded, CreatedAt: s.Now(), TestMode: s.PaymentsTestMode()})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("granted %s credits (%s)", res.Grant.Amount, res.Grant.ID), nil
}

func currencyOr(c string) string {
	if c == "" {
		return "usd"
	}
	return c
}

// onCheckoutSubscription notes the new subscription. Subscription events are authoritative,
// so the row it creates carries the zero event time: any subscription event overrides it.
func (s *Service) onCheckoutSubscription(ctx context.Context, tx Tx, ev PaymentEvent, accID string) (string, error) {
	c := ev.Checkout
	if c.SubscriptionID == "" {
		return "rejected: subscription session without a subscription", nil
	}
	if c.PaymentStatus != "paid" && c.PaymentStatus != "no_payment_required" {
		return "awaiting payment (" + c.PaymentStatus + ")", nil
	}
	plan, err := s.Plan(ctx, c.Metadata["plan"])
	if err != nil {
		return rejected(err)
	}
	_, err = tx.SubscriptionForUpdate(ctx, c.SubscriptionID)
	switch {
	case err == nil:
	case ErrorCode(err) == ENotFound:
		now := s.Now()
		err = tx.UpsertSubscription(ctx, Subscription{ID: c.SubscriptionID, AccountID: accID, PlanKey: plan.Key, Status: "active",
			CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return "", err
		}
	default:
		return "", err
	}
	if err := s.syncPlan(ctx, tx, accID, eventActor(ev)); err != nil {
		return "", err
	}
	return "subscription " + c.SubscriptionID + " noted", s.completeCheckout(ctx, tx, c.ID)
}

func (s *Service) onCheckoutFailed(ctx context.Context, tx Tx, ev PaymentEvent) (string, error) {
	c := ev.Checkout
	accID, err := s.accountOfCustomer(ctx, tx, c.ClientReferenceID, c.CustomerID)
	if err != nil {
		return rejected(err)
	}
	if err := s.recordPaymentFailure(ctx, tx, accID, FailureCheckout, c.ID, c.ID); err != nil {
		return "", err
	}
	// Like a failed subscription payment, it speaks through the payment_failed rules, in-app
	// and by mail as each rule's channels say.
	n := Notification{Kind: "payment_failed", Level: "error", Key: "checkout_failed:" + c.ID, Link: billingPath,
		Message: "Your bank payment for a purchase did not go through, so no credits were added. Try again with another payment method."}
	err = fireEventAlerts(ctx, tx, accID, AlertPaymentFailed, "checkout:"+c.ID,
		"the bank payment for a purchase (checkout "+c.ID+") did not go through, so no credits were added.", s.Now(), &n)
	if err != nil {
		return "", err
	}
	return "payment failed: customer notified", s.expireCheckout(ctx, tx, c.ID)
}

// completeCheckout and expireCheckout update our copy of a session, when we have one.
func (s *Service) completeCheckout(ctx context.Context, tx Tx, id string) error {
	return ignoreNotFound(tx.SetCheckoutStatus(ctx, id, "complete"))
}

func (s *Service) expireCheckout(ctx context.Context, tx Tx, id string) error {
	rec, err := tx.CheckoutForUpdate(ctx, id)
	if ErrorCode(err) == ENotFound {
		return nil
	}
	if err != nil || rec.Status != "open" {
		return err
	}
	return tx.SetCheckoutStatus(ctx, id, "expired")
}

func ignoreNotFound(err error) error {
	if ErrorCode(err) == ENotFound {
		return nil
	}
	return err
}

// CheckoutForUser returns a checkout session of the user's account. Errors: not_found
// (missing, or another account's); a failed read is returned as it is.
func (s *Service) CheckoutForUser(ctx context.Context, userID, id string) (CheckoutRecord, error) {
	acc, err := s.buyerAccount(ctx, userID)
	if err != nil {
		return CheckoutRecord{}, err
	}
	rec, err := s.store.CheckoutByID(ctx, id)
	return owned(rec, err, rec.AccountID == acc.ID, "No such checkout session.")
}
