package store

import (
	"context"

	"creditline/billing"
)

func (s *Store) UserByEmail(ctx context.Context, email string) (billing.User, error) {
	var u billing.User
	err := s.db.GetContext(ctx, &u, `SELECT id, email, name, password_hash, is_admin, created_at FROM users WHERE email = $1`, email)
	return u, mapErr("user by email", err)
}

func (s *Store) UserByID(ctx context.Context, id string) (billing.User, error) {
	var u billing.User
	err := s.db.GetContext(ctx, &u, `SELECT id, email, name, password_hash, is_admin, created_at FROM users WHERE id = $1`, id)
	return u, mapErr("user by id", err)
}

func (s *Store) MembershipsOf(ctx context.Context, userID string) ([]billing.Membership, error) {
	var ms []billing.Membership
	err := s.db.SelectContext(ctx, &ms, `
		SELECT m.id, m.account_id, a.name AS account_name, m.user_id, m.role, m.created_at, m.monthly_limit
		FROM memberships m JOIN accounts a ON a.id = m.account_id
		WHERE m.user_id = $1 ORDER BY m.created_at, m.account_id`, userID)
	return ms, mapErr("memberships", err)
}

func (s *Store) Counts(ctx context.Context) (billing.PlatformCounts, error) {
	var c billing.PlatformCounts
	err := s.db.GetContext(ctx, &c, `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM accounts) AS accounts`)
	return c, mapErr("counts", err)
}

func (t *tx) CreateUser(ctx context.Context, u billing.User) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO users (id, email, name, password_hash, is_admin, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, u.ID, u.Email, u.Name, u.PasswordHash, u.IsAdmin, u.CreatedAt)
	return mapErr("create user", err)
}

func (t *tx) SetAdmin(ctx context.Context, userID, passwordHash string) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE users SET is_admin = true,
		password_hash = CASE WHEN $2 = '' THEN password_hash ELSE $2 END WHERE id = $1`, userID, passwordHash)
	return mapErr("set admin", err)
}

func (t *tx) AddMembership(ctx context.Context, m billing.Membership) error {
	if m.ID == "" { // callers that predate member ids (tests, seeds)
		m.ID = billing.NewID("mem")
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO memberships (id, account_id, user_id, role, created_at, monthly_limit) VALUES ($1, $2, $3, $4, $5, $6)`,
		m.ID, m.AccountID, m.UserID, m.Role, m.CreatedAt, m.MonthlyLimit)
	return mapErr("add membership", err)
}
