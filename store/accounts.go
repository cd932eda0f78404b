package store

import (
	"context"
	"time"

	"creditline/billing"
)

const accountCols = `id, name, external_id, status, status_reason, plan_key, overdraft_limit, balance, reserved, debt, created_at,
	email, spend_limit, spend_limit_mode, period_start, period_spent, low_balance_threshold, last_topup, version,
	billing_period_start, billing_period_end, member_limits, is_team`

func (s *Store) AccountByID(ctx context.Context, id string) (billing.Account, error) {
	var a billing.Account
	err := s.db.GetContext(ctx, &a, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, id)
	return a, mapErr("account by id", err)
}

func (t *tx) CreateAccount(ctx context.Context, a billing.Account) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO accounts (id, name, external_id, status, plan_key, overdraft_limit, created_at, email)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, a.ID, a.Name, a.ExternalID, a.Status, a.PlanKey, a.OverdraftLimit, a.CreatedAt, a.Email)
	return mapErr("create account", err)
}

func (s *Store) AccountByExternalID(ctx context.Context, externalID string) (billing.Account, error) {
	var a billing.Account
	err := s.db.GetContext(ctx, &a, `SELECT `+accountCols+` FROM accounts WHERE external_id = $1`, externalID)
	return a, mapErr("account by external id", err)
}

func (t *tx) SetOverdraftLimit(ctx context.Context, accountID string, limit billing.Credits) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE accounts SET overdraft_limit = $2 WHERE id = $1`, accountID, limit)
	return affected("set overdraft limit", res, err)
}

func (t *tx) SetAccountStatus(ctx context.Context, accountID, status, reason string) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE accounts SET status = $2, status_reason = $3 WHERE id = $1`, accountID, status, reason)
	return affected("set status", res, err)
}

func (t *tx) SetSpendLimit(ctx context.Context, accountID string, limit *billing.Credits, mode string, lowBalance *billing.Credits) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE accounts SET spend_limit = $2, spend_limit_mode = $3, low_balance_threshold = $4 WHERE id = $1`,
		accountID, limit, mode, lowBalance)
	return affected("set spend limit", res, err)
}

func (t *tx) SetBillingPeriod(ctx context.Context, accountID string, start, end *time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE accounts SET billing_period_start = $2, billing_period_end = $3 WHERE id = $1`, accountID, start, end)
	return affected("set billing period", res, err)
}

func (t *tx) SetAccountPlan(ctx context.Context, accountID, planKey string) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE accounts SET plan_key = $2 WHERE id = $1`, accountID, planKey)
	return affected("set plan", res, err)
}
