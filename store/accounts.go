package store

import (
	"context"

	"creditline/billing"
)

const accountCols = `id, name, external_id, status, status_reason, plan_key, overdraft_limit, balance, reserved, debt, created_at,
	spend_limit, spend_limit_mode, period_start, period_spent, low_balance_threshold, last_topup`

func (s *Store) AccountByID(ctx context.Context, id string) (billing.Account, error) {
	var a billing.Account
	err := s.db.GetContext(ctx, &a, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, id)
	return a, mapErr("account by id", err)
}

func (t *tx) CreateAccount(ctx context.Context, a billing.Account) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO accounts (id, name, external_id, status, plan_key, overdraft_limit, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, a.ID, a.Name, a.ExternalID, a.Status, a.PlanKey, a.OverdraftLimit, a.CreatedAt)
	return mapErr("create account", err)
}

func (s *Store) AccountByExternalID(ctx context.Context, externalID string) (billing.Account, error) {
	var a billing.Account
	err := s.db.GetContext(ctx, &a, `SELECT `+accountCols+` FROM accounts WHERE external_id = $1`, externalID)
	return a, mapErr("account by external id", err)
}

func (t *tx) SetOverdraftLimit(ctx context.Context, accountID string, limit billing.Credits) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE accounts SET overdraft_limit = $2 WHERE id = $1`, accountID, limit)
	if err != nil {
		return mapErr("set overdraft limit", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &billing.Error{Code: billing.ENotFound, Message: "No such account."}
	}
	return nil
}
