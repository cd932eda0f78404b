// Package payments implements billing.Payments twice: Stripe (through stripe-go v76, the
// only package that imports it) and TestMode, a local stand-in where no money moves. It
// also verifies Stripe webhooks and reduces them to billing.PaymentEvent.
package payments

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"creditline/billing"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// Config configures the Stripe provider.
type Config struct {
	SecretKey string
	// APIBase overrides Stripe's API URL (stripe-mock in tests); empty means Stripe.
	APIBase string
	// BaseURL is the portal's public URL; paths given by billing are made absolute with it.
	BaseURL string
}

// Stripe talks to the Stripe API.
type Stripe struct {
	api  *client.API
	base string
}

var _ billing.Payments = (*Stripe)(nil)

// NewStripe builds the Stripe provider.
func NewStripe(cfg Config) *Stripe {
	bc := &stripe.BackendConfig{
		HTTPClient:        &http.Client{Timeout: 30 * time.Second},
		MaxNetworkRetries: stripe.Int64(2),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.APIBase != "" {
		bc.URL = stripe.String(strings.TrimRight(cfg.APIBase, "/"))
	}
	backends := &stripe.Backends{
		API:     stripe.GetBackendWithConfig(stripe.APIBackend, bc),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, bc),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, bc),
	}
	return &Stripe{api: client.New(cfg.SecretKey, backends), base: strings.TrimRight(cfg.BaseURL, "/")}
}

func (s *Stripe) TestMode() bool { return false }

func (s *Stripe) abs(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	return s.base + path
}

func (s *Stripe) CreateCustomer(ctx context.Context, in billing.CustomerInput) (string, error) {
	p := &stripe.CustomerParams{Name: stripe.String(in.Name), Email: stripe.String(in.Email)}
	p.Context = ctx
	p.AddMetadata("account", in.AccountID)
	p.SetIdempotencyKey("customer-" + in.AccountID)
	c, err := s.api.Customers.New(p)
	if err != nil {
		return "", fmt.Errorf("payments: create customer: %w", err)
	}
	return c.ID, nil
}

// CreateCheckoutSession: a pack in payment mode saving the card for off-session use; a plan
// in subscription mode (metadata on the subscription too, so its invoices carry the plan);
// an SCA-blocked recharge in payment mode, finished on session.
func (s *Stripe) CreateCheckoutSession(ctx context.Context, in billing.CheckoutInput) (billing.CheckoutSession, error) {
	meta := map[string]string{"kind": in.Kind, "account": in.AccountID}
	price := &stripe.CheckoutSessionLineItemPriceDataParams{Currency: stripe.String(in.Currency), UnitAmount: stripe.Int64(in.Amount),
		ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(in.Name)}}
	p := &stripe.CheckoutSessionParams{
		Customer: stripe.String(in.CustomerID), ClientReferenceID: stripe.String(in.AccountID),
		SuccessURL: stripe.String(s.abs(in.SuccessURL)), CancelURL: stripe.String(s.abs(in.CancelURL)),
		LineItems: []*stripe.CheckoutSessionLineItemParams{{PriceData: price, Quantity: stripe.Int64(1)}},
	}
	if in.PriceID != "" { // the operator's Stripe price (its own amount and, for a plan, interval)
		p.LineItems[0].PriceData, p.LineItems[0].Price = nil, stripe.String(in.PriceID)
	}
	p.Context = ctx
	switch in.Kind {
	case billing.KindPlan:
		meta["plan"] = in.Key
		price.Recurring = &stripe.CheckoutSessionLineItemPriceDataRecurringParams{Interval: stripe.String("month")}
		p.Mode = stripe.String(string(stripe.CheckoutSessionModeSubscription))
		p.SubscriptionData = &stripe.CheckoutSessionSubscriptionDataParams{Metadata: meta}
	default:
		if in.Kind == billing.KindPack {
			meta["pack"] = in.Key
		} else {
			meta["recharge"] = in.Key
		}
		p.Mode = stripe.String(string(stripe.CheckoutSessionModePayment))
		p.PaymentIntentData = &stripe.CheckoutSessionPaymentIntentDataParams{
			SetupFutureUsage: stripe.String("off_session"), Metadata: meta}
	}
	p.Metadata = meta
	sess, err := s.api.CheckoutSessions.New(p)
	if err != nil {
		return billing.CheckoutSession{}, fmt.Errorf("payments: create checkout session: %w", err)
	}
	return billing.CheckoutSession{ID: sess.ID, URL: sess.URL}, nil
}

func (s *Stripe) CreatePortalSession(ctx context.Context, in billing.PortalInput) (string, error) {
	p := &stripe.BillingPortalSessionParams{Customer: stripe.String(in.CustomerID), ReturnURL: stripe.String(s.abs(in.ReturnURL))}
	p.Context = ctx
	if in.SubscriptionID != "" {
		p.FlowData = &stripe.BillingPortalSessionFlowDataParams{Type: stripe.String("subscription_update"),
			SubscriptionUpdate: &stripe.BillingPortalSessionFlowDataSubscriptionUpdateParams{Subscription: stripe.String(in.SubscriptionID)}}
	}
	sess, err := s.api.BillingPortalSessions.New(p)
	if err != nil {
		return "", fmt.Errorf("payments: create portal session: %w", err)
	}
	return sess.URL, nil
}

// ChargeOffSession creates and confirms a PaymentIntent off session. Stripe answers a decline
// (and an off-session authentication demand) with a card error: those are results.
func (s *Stripe) ChargeOffSession(ctx context.Context, in billing.ChargeInput) (billing.ChargeResult, error) {
	p := &stripe.PaymentIntentParams{Amount: stripe.Int64(in.Amount), Currency: stripe.String(in.Currency),
		Customer: stripe.String(in.CustomerID), Confirm: stripe.Bool(true), OffSession: stripe.Bool(true),
		Description: stripe.String(in.Description)}
	if in.PaymentMethodID != "" {
		p.PaymentMethod = stripe.String(in.PaymentMethodID)
	}
	p.Context = ctx
	p.SetIdempotencyKey(in.IdempotencyKey)
	p.AddMetadata("kind", "auto_recharge")
	p.AddMetadata("recharge", in.RechargeID)
	p.AddMetadata("account", in.AccountID)
	pi, err := s.api.PaymentIntents.New(p)
	var se *stripe.Error
	if errors.As(err, &se) && se.Type == stripe.ErrorTypeCard {
		res := billing.ChargeResult{Status: billing.ChargeDeclined, DeclineMessage: se.Msg}
		if se.PaymentIntent != nil {
			res.PaymentIntentID = se.PaymentIntent.ID
		}
		if se.Code == stripe.ErrorCodeAuthenticationRequired {
			res.Status = billing.ChargeRequiresAction
		}
		return res, nil
	}
	if err != nil {
		return billing.ChargeResult{}, fmt.Errorf("payments: charge off session: %w", err)
	}
	return intentResult(pi), nil
}

func intentResult(pi *stripe.PaymentIntent) billing.ChargeResult {
	res := billing.ChargeResult{PaymentIntentID: pi.ID}
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		res.Status = billing.ChargeSucceeded
	case stripe.PaymentIntentStatusRequiresAction:
		res.Status = billing.ChargeRequiresAction
		if pi.NextAction != nil && pi.NextAction.RedirectToURL != nil {
			res.ActionURL = pi.NextAction.RedirectToURL.URL
		}
	case stripe.PaymentIntentStatusRequiresPaymentMethod, stripe.PaymentIntentStatusCanceled:
		res.Status = billing.ChargeDeclined
		if pi.LastPaymentError != nil {
			res.DeclineMessage = pi.LastPaymentError.Msg
		}
	default:
		res.Status = billing.ChargeProcessing
	}
	return res
}

// ReceiptURL reads the receipt of the payment intent's latest charge.
func (s *Stripe) ReceiptURL(ctx context.Context, paymentIntentID string) (string, error) {
	p := &stripe.PaymentIntentParams{}
	p.Context = ctx
	p.AddExpand("latest_charge")
	pi, err := s.api.PaymentIntents.Get(paymentIntentID, p)
	if err != nil {
		return "", fmt.Errorf("payments: receipt: %w", err)
	}
	if pi.LatestCharge == nil || pi.LatestCharge.ReceiptURL == "" {
		return "", &billing.Error{Code: billing.ENotFound, Message: "Stripe has no receipt for this payment yet."}
	}
	return pi.LatestCharge.ReceiptURL, nil
}
