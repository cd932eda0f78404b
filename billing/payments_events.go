package billing

import (
	"context"
	"time"
)

// PaymentEvent is a provider event reduced to the fields fulfilment reads. Package payments
// builds it from a verified Stripe webhook; test mode builds it directly. Exactly one of the
// object pointers is set for the types billing handles.
type PaymentEvent struct {
	ID            string
	Type          string
	Created       time.Time
	Checkout      *CheckoutEvent
	Invoice       *InvoiceEvent
	Subscription  *SubscriptionEvent
	Charge        *ChargeEvent
	PaymentIntent *PaymentIntentEvent
}

// CheckoutEvent is a checkout.session.* object.
type CheckoutEvent struct {
	ID                string
	ClientReferenceID string
	CustomerID        string
	Mode              string // payment or subscription
	PaymentStatus     string // paid, unpaid, no_payment_required
	Metadata          map[string]string
	AmountTotal       int64
	Currency          string
	PaymentIntentID   string
	SubscriptionID    string
	Created           time.Time
}

// InvoiceEvent is an invoice.* object. PlanKey and AccountID come from the subscription's
// metadata (or its price's lookup key) when Stripe sends them.
type InvoiceEvent struct {
	ID              string
	CustomerID      string
	SubscriptionID  string
	PlanKey         string
	AccountID       string
	AmountPaid      int64
	AmountDue       int64
	Currency        string
	PaymentIntentID string
	HostedURL       string
	PeriodStart     time.Time
	PeriodEnd       time.Time
}

// SubscriptionEvent is a customer.subscription.* object.
type SubscriptionEvent struct {
	ID                 string
	CustomerID         string
	AccountID          string
	PlanKey            string
	Status             string
	CurrentPeriodStart time.Time
	CurrentPeriodEnd   time.Time
	CancelAtPeriodEnd  bool
}

// ChargeEvent is a charge.* object. AmountRefunded is cumulative, as Stripe reports it.
type ChargeEvent struct {
	ID              string
	CustomerID      string
	PaymentIntentID string
	InvoiceID       string
	Amount          int64
	AmountRefunded  int64
	Currency        string
}

// PaymentIntentEvent is a payment_intent.* object.
type PaymentIntentEvent struct {
	ID              string
	CustomerID      string
	Status          string
	PaymentMethodID string
	Amount          int64
	Currency        string
	Metadata        map[string]string
	FailureMessage  string
	ActionURL       string
}

// Event statuses.
const (
	EventReceived  = "received"
	EventProcessed = "processed"
	EventFailed    = "failed"
)

// EventRecord is a stored webhook event with its outcome.
type EventRecord struct {
	ID          string     `db:"id"`
	Type        string     `db:"type"`
	Status      string     `db:"status"`
	Outcome     string     `db:"outcome"`
	Attempts    int        `db:"attempts"`
	Created     time.Time  `db:"created"`
	ReceivedAt  time.Time  `db:"received_at"`
	ProcessedAt *time.Time `db:"processed_at"`
}

// EventResult says what processing an event did.
type EventResult struct {
	Outcome  string
	Replayed bool // the event was processed before; nothing changed
}

// ProcessPaymentEvent applies one event exactly once: the event row, every grant, revoke and
// status change commit in one transaction. A replay changes nothing. An error means nothing
// changed and the provider should retry (the failed attempt is recorded).
func (s *Service) ProcessPaymentEvent(ctx context.Context, ev PaymentEvent) (EventResult, error) {
	if ev.ID == "" || ev.Type == "" {
		return EventResult{}, Errorf(EInvalid, "The event has no id or type.")
	}
	now := s.Now()
	if ev.Created.IsZero() {
		ev.Created = now
	}
	rec := EventRecord{ID: ev.ID, Type: ev.Type, Status: EventReceived, Created: ev.Created.UTC(), ReceivedAt: now}
	var res EventResult
	err := s.store.InTx(ctx, func(tx Tx) error {
		stored, err := tx.ClaimEvent(ctx, rec)
		if err != nil {
			return err
		}
		if stored.Status == EventProcessed {
			res = EventResult{Outcome: stored.Outcome, Replayed: true}
			return nil
		}
		out, err := s.handleEvent(ctx, tx, ev)
		if err != nil {
			return err
		}
		res.Outcome = out
		return tx.FinishEvent(ctx, ev.ID, out, now)
	})
	if err != nil {
		if ferr := s.store.RecordEventFailure(context.WithoutCancel(ctx), rec, err.Error()); ferr != nil {
			return EventResult{}, ferr
		}
		return EventResult{}, err
	}
	return res, nil
}

// PaymentEvent returns a stored payment event. Errors: not_found.
func (s *Service) PaymentEvent(ctx context.Context, id string) (EventRecord, error) {
	return s.store.EventByID(ctx, id)
}

// handleEvent returns the outcome stored with the event. Data that can never be fulfilled
// (unknown account, pack or plan) is an outcome, not an error: retrying would not help.
func (s *Service) handleEvent(ctx context.Context, tx Tx, ev PaymentEvent) (string, error) {
	switch {
	case ev.Checkout != nil:
		switch ev.Type {
		case "checkout.session.completed", "checkout.session.async_payment_succeeded":
			return s.onCheckoutPaid(ctx, tx, ev)
		case "checkout.session.async_payment_failed":
			return s.onCheckoutFailed(ctx, tx, ev)
		case "checkout.session.expired":
			return "session expired", s.expireCheckout(ctx, tx, ev.Checkout.ID)
		}
	case ev.Invoice != nil:
		switch ev.Type {
		case "invoice.paid":
			return s.onInvoicePaid(ctx, tx, ev)
		case "invoice.payment_failed":
			return s.onInvoiceFailed(ctx, tx, ev)
		}
	case ev.Subscription != nil:
		switch ev.Type {
		case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted":
			return s.onSubscription(ctx, tx, ev)
		}
	case ev.Charge != nil && ev.Type == "charge.refunded":
		return s.onChargeRefunded(ctx, tx, ev)
	case ev.PaymentIntent != nil:
		switch ev.Type {
		case "payment_intent.succeeded":
			return s.onIntentSucceeded(ctx, tx, ev)
		case "payment_intent.payment_failed":
			return s.onIntentFailed(ctx, tx, ev)
		case "payment_intent.requires_action":
			return s.onIntentRequiresAction(ctx, tx, ev)
		}
	}
	return "ignored: " + ev.Type + " is not handled", nil
}

// eventActor names the event in ledger entries.
func eventActor(ev PaymentEvent) string { return "webhook:" + ev.ID }

// accountOfCustomer resolves an account from metadata or the provider customer.
func (s *Service) accountOfCustomer(ctx context.Context, tx Tx, accountID, customerID string) (string, error) {
	if customerID != "" {
		c, err := tx.CustomerByID(ctx, customerID)
		switch {
		case err == nil:
			if accountID != "" && accountID != c.AccountID {
				return "", Errorf(EInvalid, "customer %s belongs to another account", customerID)
			}
			return c.AccountID, nil
		case ErrorCode(err) != ENotFound:
			return "", err
		}
	}
	if accountID == "" {
		return "", Errorf(ENotFound, "no account for customer %q", customerID)
	}
	if _, err := s.store.AccountByID(ctx, accountID); err != nil {
		if ErrorCode(err) == ENotFound {
			return "", Errorf(ENotFound, "no account %s", accountID)
		}
		return "", err
	}
	return accountID, nil
}

// rejected turns a permanent data problem into a stored outcome; other errors propagate.
func rejected(err error) (string, error) {
	switch ErrorCode(err) {
	case ENotFound, EInvalid:
		return "rejected: " + ErrorMessage(err), nil
	}
	return "", err
}
