package billing

import (
	"context"
	"time"
)

// Payments is what billing needs from a payment provider: Stripe, or the test-mode stand-in
// (package payments implements both). Paths are site-relative ("/billing"); the provider
// makes them absolute. Every method may return an unexpected (internal) error when the
// provider cannot be reached; none of them grants credits: money is fulfilled only through
// ProcessPaymentEvent.
type Payments interface {
	// TestMode says no money moves: checkout, renewals and off-session charges are simulated.
	TestMode() bool
	CreateCustomer(ctx context.Context, in CustomerInput) (string, error)
	CreateCheckoutSession(ctx context.Context, in CheckoutInput) (CheckoutSession, error)
	// CreatePortalSession returns the URL of a billing-portal session for the customer.
	CreatePortalSession(ctx context.Context, in PortalInput) (string, error)
	// ChargeOffSession confirms a PaymentIntent off session with the saved payment method.
	// A decline is a result (ChargeDeclined), not an error.
	ChargeOffSession(ctx context.Context, in ChargeInput) (ChargeResult, error)
	// ReceiptURL returns the provider's receipt of a payment intent.
	ReceiptURL(ctx context.Context, paymentIntentID string) (string, error)
}

// CustomerInput creates the provider's customer for an account.
type CustomerInput struct {
	AccountID string
	Name      string
	Email     string
}

// Checkout kinds, as Checkout metadata carries them.
const (
	KindPack = "pack"
	KindPlan = "plan"
)

// CheckoutInput describes one Checkout session: a pack in payment mode (saving the card for
// off-session use) or a plan in subscription mode.
type CheckoutInput struct {
	AccountID  string
	CustomerID string
	Kind       string // KindPack or KindPlan
	Key        string // pack or plan key
	Name       string // shown on the checkout page
	Amount     int64  // minor units, per unit (per month for a plan)
	Currency   string
	SuccessURL string
	CancelURL  string
	// PriceID is the item's Stripe price for Currency, set only for a provider that is not test
	// mode; the Stripe provider then checks out with it instead of Name and Amount inline.
	PriceID string
}

// CheckoutSession is what the provider created; URL is where the customer pays.
type CheckoutSession struct {
	ID  string
	URL string
}

// PortalInput opens the customer portal; SubscriptionID, when set, opens it on a plan change.
type PortalInput struct {
	CustomerID     string
	ReturnURL      string
	SubscriptionID string
}

// ChargeInput is one off-session charge. IdempotencyKey makes a retried call the same charge.
type ChargeInput struct {
	AccountID       string
	CustomerID      string
	PaymentMethodID string // empty: the provider uses the customer's saved method
	Amount          int64
	Currency        string
	Description     string
	RechargeID      string
	IdempotencyKey  string
}

// Off-session charge outcomes.
const (
	ChargeSucceeded      = "succeeded"
	ChargeProcessing     = "processing"
	ChargeRequiresAction = "requires_action"
	ChargeDeclined       = "declined"
)

// ChargeResult is the provider's answer. Settled means the answer is final and no webhook
// will follow (test mode): billing then runs the success path itself.
type ChargeResult struct {
	PaymentIntentID string
	Status          string
	ActionURL       string // where the customer finishes an SCA challenge
	DeclineMessage  string
	Settled         bool
}

// PaymentsTestMode says the provider simulates payments (PAYMENTS=test). Without a provider it
// is false: test checkouts and renewals are refused rather than granted for free.
func (s *Service) PaymentsTestMode() bool { return s.payments != nil && s.payments.TestMode() }

func (s *Service) provider() (Payments, error) {
	if s.payments == nil {
		return nil, Errorf(EInternal, "Payments are not configured.")
	}
	return s.payments, nil
}

// Customer is an account's customer at the provider.
type Customer struct {
	AccountID     string    `db:"account_id"`
	CustomerID    string    `db:"customer_id"`
	PaymentMethod string    `db:"payment_method"`
	CreatedAt     time.Time `db:"created_at"`
}

// CheckoutRecord is a checkout session we created.
type CheckoutRecord struct {
	ID        string    `db:"id"`
	AccountID string    `db:"account_id"`
	Kind      string    `db:"kind"`
	ItemKey   string    `db:"item_key"`
	Amount    int64     `db:"amount"`
	Currency  string    `db:"currency"`
	Status    string    `db:"status"`
	URL       string    `db:"url"`
	CreatedAt time.Time `db:"created_at"`
}

// Payment statuses.
const (
	PaymentSucceeded         = "succeeded"
	PaymentRefunded          = "refunded"
	PaymentPartiallyRefunded = "partially_refunded"
)

// Payment is money that moved, with what it bought.
type Payment struct {
	ID             string    `db:"id"`
	AccountID      string    `db:"account_id"`
	Kind           string    `db:"kind"`
	Ref            string    `db:"ref"`
	PaymentIntent  *string   `db:"payment_intent"`
	Description    string    `db:"description"`
	Amount         int64     `db:"amount"`
	AmountRefunded int64     `db:"amount_refunded"`
	Currency       string    `db:"currency"`
	Credits        Credits   `db:"credits"`
	Status         string    `db:"status"`
	ReceiptURL     string    `db:"receipt_url"`
	CreatedAt      time.Time `db:"created_at"`
	// TestMode marks a payment made through the test-mode provider: no money moved.
	TestMode bool `db:"test_mode"`
}

// CurrencyAmount is an amount of money in minor units of one currency.
type CurrencyAmount struct {
	Currency string `db:"currency"`
	Amount   int64  `db:"amount"`
}

// CashReceived is the money payments brought in over [from, to), net of refunds, per currency;
// test-mode payments never count. The revenue report reads it.
func (s *Service) CashReceived(ctx context.Context, from, to time.Time) ([]CurrencyAmount, error) {
	return s.store.CashReceived(ctx, from, to)
}

// Subscription is a provider subscription as its webhooks describe it.
type Subscription struct {
	ID                 string     `db:"id"`
	AccountID          string     `db:"account_id"`
	PlanKey            string     `db:"plan_key"`
	Status             string     `db:"status"`
	CurrentPeriodStart *time.Time `db:"current_period_start"`
	CurrentPeriodEnd   *time.Time `db:"current_period_end"`
	CancelAtPeriodEnd  bool       `db:"cancel_at_period_end"`
	LastEventAt        time.Time  `db:"last_event_at"`
	CreatedAt          time.Time  `db:"created_at"`
	UpdatedAt          time.Time  `db:"updated_at"`
}

// Live says the subscription gives its plan (Stripe keeps past_due subscriptions running).
func (s Subscription) Live() bool {
	switch s.Status {
	case "active", "trialing", "past_due":
		return true
	}
	return false
}

// Notification is an in-app message to an account.
type Notification struct {
	ID        int64      `db:"id"`
	AccountID string     `db:"account_id"`
	Kind      string     `db:"kind"`
	Level     string     `db:"level"`
	Message   string     `db:"message"`
	Link      string     `db:"link"`
	Key       string     `db:"key"`
	CreatedAt time.Time  `db:"created_at"`
	ReadAt    *time.Time `db:"read_at"`
	// RuleID is the alert rule that raised it (nil: a payment notice).
	RuleID *string `db:"rule_id"`
}

// AbuseFlag is raised for the abuse review queue.
type AbuseFlag struct {
	ID        int64  // 0 until stored
	Status    string // open, dismissed or actioned
	AccountID string
	Kind      string
	Ref       string
	Evidence  map[string]any
	CreatedAt time.Time
}

// Abuse flag kinds.
const AbuseRefundAfterConsumption = "refund_after_consumption"

// PaymentsStore reads payment state outside a transaction.
type PaymentsStore interface {
	// CustomerOf returns not_found when the account has no provider customer yet.
	CustomerOf(ctx context.Context, accountID string) (Customer, error)
	// CheckoutByID returns not_found for an unknown session.
	CheckoutByID(ctx context.Context, id string) (CheckoutRecord, error)
	// CurrentSubscription is the account's most recently updated subscription; not_found when none.
	CurrentSubscription(ctx context.Context, accountID string) (Subscription, error)
	ListPayments(ctx context.Context, accountID string, limit int) ([]Payment, error)
	// PaymentByID returns not_found for an unknown payment.
	PaymentByID(ctx context.Context, id string) (Payment, error)
	ListNotifications(ctx context.Context, accountID string, limit int) ([]Notification, error)
	ListAbuseFlags(ctx context.Context, accountID string) ([]AbuseFlag, error)
	// RecordEventFailure stores a failed attempt at an event (outside the rolled-back transaction).
	RecordEventFailure(ctx context.Context, ev EventRecord, errText string) error
	EventByID(ctx context.Context, id string) (EventRecord, error)
	// CashReceived sums payments (net of refunds) per currency, test-mode payments left out.
	CashReceived(ctx context.Context, from, to time.Time) ([]CurrencyAmount, error)
	AutoRechargeStore
}

// PaymentsTx writes payment state inside a transaction.
type PaymentsTx interface {
	// InsertCustomer returns conflict when the account already has one.
	InsertCustomer(ctx context.Context, c Customer) error
	// CustomerByID returns not_found for an unknown provider customer.
	CustomerByID(ctx context.Context, customerID string) (Customer, error)
	CustomerOf(ctx context.Context, accountID string) (Customer, error)
	SetPaymentMethod(ctx context.Context, customerID, paymentMethod string) error
	InsertCheckout(ctx context.Context, c CheckoutRecord) error
	// CheckoutForUpdate locks a checkout row; not_found when unknown.
	CheckoutForUpdate(ctx context.Context, id string) (CheckoutRecord, error)
	SetCheckoutStatus(ctx context.Context, id, status string) error
	// SubscriptionForUpdate locks a subscription row; not_found when unknown.
	SubscriptionForUpdate(ctx context.Context, id string) (Subscription, error)
	UpsertSubscription(ctx context.Context, s Subscription) error
	// LiveSubscriptionsOf lists the account's subscriptions that give a plan, newest first; one
	// dropped to Free by dunning (an open, downgraded case) gives none.
	LiveSubscriptionsOf(ctx context.Context, accountID string) ([]Subscription, error)
	SetAccountPlan(ctx context.Context, accountID, planKey string) error
	// SetBillingPeriod sets the account's subscription period (both nil: none, calendar months).
	SetBillingPeriod(ctx context.Context, accountID string, start, end *time.Time) error
	// InsertPayment does nothing when a payment with the same ref exists.
	InsertPayment(ctx context.Context, p Payment) error
	// PaymentForUpdate locks the payment with this provider ref; not_found when unknown.
	PaymentForUpdate(ctx context.Context, ref string) (Payment, error)
	SetPaymentRefund(ctx context.Context, id string, amountRefunded int64, status string) error
	// GrantByStripeRef finds the grant bought by a payment intent or, failing that, an invoice.
	GrantByStripeRef(ctx context.Context, paymentIntent, invoice string) (Grant, error)
	// SubscriptionLots lists the account's subscription grants with credits left, oldest
	// first, each with how many later allotments were granted (boundaries crossed).
	SubscriptionLots(ctx context.Context, accountID string) ([]SubscriptionLot, error)
	// RefundForUpdate locks a charge's refund row; not_found when none.
	RefundForUpdate(ctx context.Context, chargeID string) (Refund, error)
	UpsertRefund(ctx context.Context, r Refund) error
	// InsertAbuseFlag does nothing when the same kind and ref were raised before.
	InsertAbuseFlag(ctx context.Context, f AbuseFlag) error
	// InsertNotification does nothing when the account already has one with the same key.
	InsertNotification(ctx context.Context, n Notification) error
	// ClaimEvent stores an event on first sight and locks it; it returns the stored record.
	ClaimEvent(ctx context.Context, ev EventRecord) (EventRecord, error)
	FinishEvent(ctx context.Context, id, outcome string, at time.Time) error
	AutoRechargeTx
}

// SubscriptionLot is a live subscription grant and the allotments granted after it.
type SubscriptionLot struct {
	GrantID string `db:"id"`
	Carried int    `db:"carried"`
}

// Refund is what a charge's refunds have taken back so far.
type Refund struct {
	ChargeID       string    `db:"charge_id"`
	AccountID      string    `db:"account_id"`
	GrantID        string    `db:"grant_id"`
	ChargeAmount   int64     `db:"charge_amount"`
	AmountRefunded int64     `db:"amount_refunded"`
	Revoked        Credits   `db:"revoked"`
	Shortfall      Credits   `db:"shortfall"`
	UpdatedAt      time.Time `db:"updated_at"`
}

// notify records an in-app notification once per key.
func (s *Service) notify(ctx context.Context, tx Tx, accountID, kind, level, key, link, msg string) error {
	return tx.InsertNotification(ctx, Notification{AccountID: accountID, Kind: kind, Level: level, Message: msg,
		Link: link, Key: key, CreatedAt: s.Now()})
}

// Notifications lists an account's newest notifications.
func (s *Service) Notifications(ctx context.Context, accountID string) ([]Notification, error) {
	return s.store.ListNotifications(ctx, accountID, 20)
}

// AbuseFlags lists the flags raised on an account (abuse review).
func (s *Service) AbuseFlags(ctx context.Context, accountID string) ([]AbuseFlag, error) {
	return s.store.ListAbuseFlags(ctx, accountID)
}
