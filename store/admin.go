package store

import (
	"context"
	"strings"

	"creditline/billing"
)

func (t *tx) SetAccountSettings(ctx context.Context, accountID string, s billing.AccountSettings) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE accounts SET name = $2, email = $3, plan_key = $4, status = $5, status_reason = $6,
			overdraft_limit = $7, spend_limit = $8, spend_limit_mode = $9
		WHERE id = $1`, accountID, s.Name, s.Email, s.Plan, s.Status, s.StatusReason, s.OverdraftLimit, s.SpendLimit, s.SpendLimitMode)
	return affected("set account settings", res, err)
}

// likePrefix escapes LIKE's wildcards so the query matches as a plain prefix.
func likePrefix(q string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
}

func (s *Store) SearchAccounts(ctx context.Context, q billing.CustomerQuery) ([]billing.CustomerRow, error) {
	var out []billing.CustomerRow
	err := s.db.SelectContext(ctx, &out, `SELECT a.id, a.name, a.external_id, a.email, a.status, a.plan_key, a.balance, a.reserved, a.created_at,
			COALESCE((SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.account_id = a.id
				ORDER BY m.role = 'owner' DESC, m.created_at LIMIT 1), '') AS owner_email
		FROM accounts a
		WHERE ($1 = '' OR a.id LIKE $2 OR lower(a.name) LIKE $2 OR lower(a.external_id) LIKE $2 OR lower(a.email) LIKE $2
				OR a.id IN (SELECT m.account_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email LIKE $2))
			AND ($3 = '' OR a.id < $3)
		ORDER BY a.id DESC LIMIT $4`, q.Q, likePrefix(q.Q), q.BeforeID, q.Limit)
	return out, mapErr("search accounts", err)
}

func (s *Store) AccountMembers(ctx context.Context, accountID string) ([]billing.AccountMember, error) {
	var out []billing.AccountMember
	err := s.db.SelectContext(ctx, &out, `SELECT u.id AS user_id, u.email, u.name, m.role, m.created_at
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.account_id = $1 ORDER BY m.role = 'owner' DESC, m.created_at, u.id`, accountID)
	return out, mapErr("account members", err)
}

func (s *Store) GrantsOf(ctx context.Context, accountID string, limit int) ([]billing.Grant, error) {
	var out []billing.Grant
	err := s.db.SelectContext(ctx, &out, `SELECT `+grantCols+` FROM grants WHERE account_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, accountID, limit)
	return out, mapErr("grants of", err)
}

func (s *Store) OpenHolds(ctx context.Context, accountID string, limit int) ([]billing.Hold, error) {
	var out []billing.Hold
	err := s.db.SelectContext(ctx, &out, `SELECT `+holdCols+` FROM holds WHERE account_id = $1 AND status = 'active'
		ORDER BY created_at DESC, id DESC LIMIT $2`, accountID, limit)
	return out, mapErr("open holds", err)
}
