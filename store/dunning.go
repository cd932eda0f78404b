package store

import (
	"context"
	"database/sql"
	"errors"

	"creditline/billing"
)

const dunningCols = `subscription_id, account_id, invoice_id, plan_key, amount, currency, failed_at, grace_ends_at,
	reminded_at, downgraded_at, resolved_at, period_end`

// OpenDunning reopens a resolved case in the same statement that inserts a new one, so two
// failures racing for one subscription open it once.
func (t *tx) OpenDunning(ctx context.Context, c billing.DunningCase) (billing.DunningCase, bool, error) {
	var out billing.DunningCase
	err := t.tx.GetContext(ctx, &out, `INSERT INTO dunning (`+dunningCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, NULL, $9)
		ON CONFLICT (subscription_id) DO UPDATE SET account_id = EXCLUDED.account_id, invoice_id = EXCLUDED.invoice_id,
			plan_key = EXCLUDED.plan_key, amount = EXCLUDED.amount, currency = EXCLUDED.currency, failed_at = EXCLUDED.failed_at,
			grace_ends_at = EXCLUDED.grace_ends_at, reminded_at = NULL, downgraded_at = NULL, resolved_at = NULL,
			period_end = EXCLUDED.period_end
		WHERE dunning.resolved_at IS NOT NULL
		RETURNING `+dunningCols,
		c.SubscriptionID, c.AccountID, c.InvoiceID, c.PlanKey, c.Amount, c.Currency, c.FailedAt, c.GraceEndsAt, c.PeriodEnd)
	if err == nil {
		return out, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return out, false, mapErr("open dunning", err)
	}
	out, err = t.DunningForUpdate(ctx, c.SubscriptionID) // the open case the conflict kept
	return out, false, err
}

func (t *tx) DunningForUpdate(ctx context.Context, subscriptionID string) (billing.DunningCase, error) {
	var c billing.DunningCase
	err := t.tx.GetContext(ctx, &c, `SELECT `+dunningCols+` FROM dunning WHERE subscription_id = $1 FOR UPDATE`, subscriptionID)
	return c, mapErr("dunning case", err)
}

func (t *tx) SaveDunning(ctx context.Context, c billing.DunningCase) error {
	res, err := t.tx.NamedExecContext(ctx, `UPDATE dunning SET reminded_at = :reminded_at, downgraded_at = :downgraded_at,
		resolved_at = :resolved_at WHERE subscription_id = :subscription_id`, c)
	return affected("save dunning", res, err)
}

func (t *tx) BillingContacts(ctx context.Context, accountID string) ([]string, error) {
	var out []string
	err := t.tx.SelectContext(ctx, &out, `SELECT a.email FROM accounts a WHERE a.id = $1 AND a.email <> ''
		UNION ALL
		SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.account_id = $1 AND m.role = 'owner'
			AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = $1 AND a.email <> '')`, accountID)
	return out, mapErr("billing contacts", err)
}
