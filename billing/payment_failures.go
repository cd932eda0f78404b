package billing

import (
	"context"
	"time"
)

// Sources of a failed payment, as the card-testing detector counts them.
const (
	FailureCheckout      = "checkout"       // a Checkout session's asynchronous payment failed
	FailurePaymentIntent = "payment_intent" // a card declined on a Checkout page (one event per attempt)
	FailureAutoRecharge  = "auto_recharge"  // an off-session auto-recharge declined
)

// PaymentFailure is one failed payment of an account. SessionID, when known, names the
// checkout session it belongs to: the failure is attributed to the network that session was
// opened from; without one, to the network of the account's latest checkout before At (an
// off-session auto-recharge to none).
type PaymentFailure struct {
	Ref       string
	AccountID string
	Source    string
	SessionID string
	At        time.Time
}

// recordCheckoutIP keeps the network a checkout session was opened from; an address that
// does not parse (no client address known) records nothing.
func recordCheckoutIP(ctx context.Context, tx Tx, sessionID, accountID, ip string, at time.Time) error {
	if n := NetworkKey(ip); n != "" {
		return tx.RecordCheckoutIP(ctx, sessionID, accountID, n, at)
	}
	return nil
}

// recordPaymentFailure counts a failed payment for abuse detection, in the event's transaction.
func (s *Service) recordPaymentFailure(ctx context.Context, tx Tx, accountID, source, ref, sessionID string) error {
	return tx.RecordPaymentFailure(ctx, PaymentFailure{Ref: source + ":" + ref, AccountID: accountID, Source: source,
		SessionID: sessionID, At: s.Now()})
}
