package payments

import (
	"context"
	"sync"

	"creditline/billing"
)

// TestMode stands in for Stripe when no keys are configured: checkout is a local page that
// says no money moves, the portal is not available, and off-session charges succeed unless
// a test asks for a decline or an authentication step. Its answers are Settled: billing
// turns them into the events Stripe would send and fulfils them through the webhook path.
type TestMode struct {
	mu      sync.Mutex
	planned map[string][]string // account id -> queued outcomes (ChargeDeclined, ChargeRequiresAction, ...)
	charges int
}

var _ billing.Payments = (*TestMode)(nil)

// NewTestMode builds the test-mode provider.
func NewTestMode() *TestMode { return &TestMode{planned: map[string][]string{}} }

func (t *TestMode) TestMode() bool { return true }

// Plan queues outcomes for an account's next off-session charges (tests).
func (t *TestMode) Plan(accountID string, outcomes ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.planned[accountID] = append(t.planned[accountID], outcomes...)
}

// Charges counts the off-session charges asked for.
func (t *TestMode) Charges() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.charges
}

func (t *TestMode) CreateCustomer(_ context.Context, in billing.CustomerInput) (string, error) {
	return billing.NewID("cus_test"), nil
}

func (t *TestMode) CreateCheckoutSession(_ context.Context, in billing.CheckoutInput) (billing.CheckoutSession, error) {
	id := billing.NewID("cs_test")
	return billing.CheckoutSession{ID: id, URL: "/checkout/test/" + id}, nil
}

// CreatePortalSession has no Stripe portal to open: the billing page explains test mode.
func (t *TestMode) CreatePortalSession(_ context.Context, in billing.PortalInput) (string, error) {
	return "/billing?portal=test", nil
}

func (t *TestMode) ChargeOffSession(_ context.Context, in billing.ChargeInput) (billing.ChargeResult, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.charges++
	outcome := billing.ChargeSucceeded
	if q := t.planned[in.AccountID]; len(q) > 0 {
		outcome, t.planned[in.AccountID] = q[0], q[1:]
	}
	res := billing.ChargeResult{PaymentIntentID: "pi_test_" + in.RechargeID, Status: outcome, Settled: true}
	switch outcome {
	case billing.ChargeProcessing:
		res.Settled = false // as with Stripe: the outcome arrives later as a webhook
	case billing.ChargeDeclined:
		res.DeclineMessage = "Your card was declined (test mode)."
	case billing.ChargeRequiresAction:
		res.ActionURL = "/billing/recharges/" + in.RechargeID
	}
	return res, nil
}

// ReceiptURL is never asked in test mode: the portal renders its own receipt page.
func (t *TestMode) ReceiptURL(_ context.Context, paymentIntentID string) (string, error) {
	return "", billing.Errorf(billing.ENotFound, "Test mode has no Stripe receipts.")
}
