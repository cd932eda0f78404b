package store

import (
	"context"
	"time"

	"creditline/billing"
)

var _ billing.PaymentsStore = (*Store)(nil)
var _ billing.PaymentsTx = (*tx)(nil)

const customerCols = `account_id, customer_id, payment_method, created_at`

func (s *Store) CustomerOf(ctx context.Context, accountID string) (billing.Customer, error) {
	var c billing.Customer
	err := s.db.GetContext(ctx, &c, `SELECT `+customerCols+` FROM stripe_customers WHERE account_id = $1`, accountID)
	return c, mapErr("customer of", err)
}

func (t *tx) CustomerOf(ctx context.Context, accountID string) (billing.Customer, error) {
	var c billing.Customer
	err := t.tx.GetContext(ctx, &c, `SELECT `+customerCols+` FROM stripe_customers WHERE account_id = $1`, accountID)
	return c, mapErr("customer of", err)
}

func (t *tx) CustomerByID(ctx context.Context, customerID string) (billing.Customer, error) {
	var c billing.Customer
	err := t.tx.GetContext(ctx, &c, `SELECT `+customerCols+` FROM stripe_customers WHERE customer_id = $1`, customerID)
	return c, mapErr("customer by id", err)
}

func (t *tx) InsertCustomer(ctx context.Context, c billing.Customer) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO stripe_customers (`+customerCols+`) VALUES ($1, $2, $3, $4)`,
		c.AccountID, c.CustomerID, c.PaymentMethod, c.CreatedAt)
	return mapErr("insert customer", err)
}

func (t *tx) SetPaymentMethod(ctx context.Context, customerID, paymentMethod string) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE stripe_customers SET payment_method = $2 WHERE customer_id = $1`, customerID, paymentMethod)
	return affected("set payment method", res, err)
}

const checkoutCols = `id, account_id, kind, item_key, amount, currency, status, url, created_at`

func (t *tx) InsertCheckout(ctx context.Context, c billing.CheckoutRecord) error {
	_, err := t.tx.NamedExecContext(ctx, `INSERT INTO checkout_sessions (`+checkoutCols+`)
		VALUES (:id, :account_id, :kind, :item_key, :amount, :currency, :status, :url, :created_at)`, c)
	return mapErr("insert checkout", err)
}

func (s *Store) CheckoutByID(ctx context.Context, id string) (billing.CheckoutRecord, error) {
	var c billing.CheckoutRecord
	err := s.db.GetContext(ctx, &c, `SELECT `+checkoutCols+` FROM checkout_sessions WHERE id = $1`, id)
	return c, mapErr("checkout by id", err)
}

func (t *tx) CheckoutForUpdate(ctx context.Context, id string) (billing.CheckoutRecord, error) {
	var c billing.CheckoutRecord
	err := t.tx.GetContext(ctx, &c, `SELECT `+checkoutCols+` FROM checkout_sessions WHERE id = $1 FOR UPDATE`, id)
	return c, mapErr("checkout by id", err)
}

func (t *tx) SetCheckoutStatus(ctx context.Context, id, status string) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE checkout_sessions SET status = $2 WHERE id = $1`, id, status)
	return affected("set checkout status", res, err)
}

const subCols = `id, account_id, plan_key, status, current_period_start, current_period_end, cancel_at_period_end, last_event_at, created_at, updated_at`

func (t *tx) SubscriptionForUpdate(ctx context.Context, id string) (billing.Subscription, error) {
	var s billing.Subscription
	err := t.tx.GetContext(ctx, &s, `SELECT `+subCols+` FROM subscriptions WHERE id = $1 FOR UPDATE`, id)
	return s, mapErr("subscription", err)
}

// UpsertSubscription keeps created_at of an existing row.
func (t *tx) UpsertSubscription(ctx context.Context, s billing.Subscription) error {
	_, err := t.tx.NamedExecContext(ctx, `INSERT INTO subscriptions (`+subCols+`)
		VALUES (:id, :account_id, :plan_key, :status, :current_period_start, :current_period_end, :cancel_at_period_end, :last_event_at, :created_at, :updated_at)
		ON CONFLICT (id) DO UPDATE SET account_id = EXCLUDED.account_id, plan_key = EXCLUDED.plan_key, status = EXCLUDED.status,
			current_period_start = COALESCE(EXCLUDED.current_period_start, subscriptions.current_period_start),
			current_period_end = COALESCE(EXCLUDED.current_period_end, subscriptions.current_period_end),
			cancel_at_period_end = EXCLUDED.cancel_at_period_end, last_event_at = EXCLUDED.last_event_at, updated_at = EXCLUDED.updated_at`, s)
	return mapErr("upsert subscription", err)
}

func (t *tx) LiveSubscriptionsOf(ctx context.Context, accountID string) ([]billing.Subscription, error) {
	var out []billing.Subscription
	err := t.tx.SelectContext(ctx, &out, `SELECT `+subCols+` FROM subscriptions
		WHERE account_id = $1 AND status IN ('active', 'trialing', 'past_due')
			AND NOT EXISTS (SELECT 1 FROM dunning d WHERE d.subscription_id = subscriptions.id
				AND d.downgraded_at IS NOT NULL AND d.resolved_at IS NULL)
		ORDER BY last_event_at DESC, created_at DESC, id`, accountID)
	return out, mapErr("live subscriptions", err)
}

func (s *Store) CurrentSubscription(ctx context.Context, accountID string) (billing.Subscription, error) {
	var out billing.Subscription
	err := s.db.GetContext(ctx, &out, `SELECT `+subCols+` FROM subscriptions WHERE account_id = $1
		ORDER BY status IN ('active', 'trialing', 'past_due') DESC, last_event_at DESC, created_at DESC, id LIMIT 1`, accountID)
	return out, mapErr("current subscription", err)
}

const paymentCols = `id, account_id, kind, ref, payment_intent, description, amount, amount_refunded, currency, credits, status, receipt_url,
	created_at, test_mode`

func (t *tx) InsertPayment(ctx context.Context, p billing.Payment) error {
	_, err := t.tx.NamedExecContext(ctx, `INSERT INTO payments (`+paymentCols+`)
		VALUES (:id, :account_id, :kind, :ref, :payment_intent, :description, :amount, :amount_refunded, :currency, :credits,
			:status, :receipt_url, :created_at, :test_mode)
		ON CONFLICT (ref) DO NOTHING`, p)
	return mapErr("insert payment", err)
}

func (t *tx) PaymentForUpdate(ctx context.Context, ref string) (billing.Payment, error) {
	var p billing.Payment
	err := t.tx.GetContext(ctx, &p, `SELECT `+paymentCols+` FROM payments WHERE ref = $1 FOR UPDATE`, ref)
	return p, mapErr("payment by ref", err)
}

func (t *tx) SetPaymentRefund(ctx context.Context, id string, amountRefunded int64, status string) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE payments SET amount_refunded = $2, status = $3 WHERE id = $1`, id, amountRefunded, status)
	return affected("set payment refund", res, err)
}

func (s *Store) ListPayments(ctx context.Context, accountID string, limit int) ([]billing.Payment, error) {
	var out []billing.Payment
	err := s.db.SelectContext(ctx, &out, `SELECT `+paymentCols+` FROM payments WHERE account_id = $1
		ORDER BY created_at DESC, id LIMIT $2`, accountID, limit)
	return out, mapErr("list payments", err)
}

// CashReceived sums what payments brought in, net of refunds, per currency, over payments
// made in [from, to); test-mode payments (no money moved) are left out.
func (s *Store) CashReceived(ctx context.Context, from, to time.Time) ([]billing.CurrencyAmount, error) {
	var out []billing.CurrencyAmount
	err := s.db.SelectContext(ctx, &out, `SELECT currency, sum(amount - amount_refunded)::bigint AS amount FROM payments
		WHERE NOT test_mode AND created_at >= $1 AND created_at < $2 GROUP BY currency ORDER BY currency`, from, to)
	return out, mapErr("cash received", err)
}

func (s *Store) PaymentByID(ctx context.Context, id string) (billing.Payment, error) {
	var p billing.Payment
	err := s.db.GetContext(ctx, &p, `SELECT `+paymentCols+` FROM payments WHERE id = $1`, id)
	return p, mapErr("payment by id", err)
}
