package store

import (
	"context"
	"time"

	"creditline/billing"
)

// SessionByHash joins the user so that a request costs one indexed lookup.
func (s *Store) SessionByHash(ctx context.Context, idHash []byte) (billing.Session, billing.User, error) {
	var row struct {
		billing.Session
		UEmail     string    `db:"u_email"`
		UName      string    `db:"u_name"`
		UHash      string    `db:"u_password_hash"`
		UIsAdmin   bool      `db:"u_is_admin"`
		UCreatedAt time.Time `db:"u_created_at"`
	}
	err := s.db.GetContext(ctx, &row, `
		SELECT s.id_hash, s.user_id, s.created_at, s.last_seen_at, s.revoked_at, s.ip, s.user_agent,
			u.email AS u_email, u.name AS u_name, u.password_hash AS u_password_hash,
			u.is_admin AS u_is_admin, u.created_at AS u_created_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id_hash = $1`, idHash)
	if err != nil {
		return billing.Session{}, billing.User{}, mapErr("session by hash", err)
	}
	u := billing.User{ID: row.UserID, Email: row.UEmail, Name: row.UName, PasswordHash: row.UHash, IsAdmin: row.UIsAdmin, CreatedAt: row.UCreatedAt}
	return row.Session, u, nil
}

func (s *Store) TouchSession(ctx context.Context, idHash []byte, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1 AND last_seen_at < $2`, idHash, at)
	return mapErr("touch session", err)
}

func (s *Store) PruneSessions(ctx context.Context, createdBefore, idleBefore time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions
		WHERE created_at < $1 OR last_seen_at < $2 OR revoked_at < $2`, createdBefore, idleBefore)
	if err != nil {
		return 0, mapErr("prune sessions", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func (s *Store) PruneSignupRequests(ctx context.Context, expiredBefore time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM signup_requests WHERE expires_at < $1`, expiredBefore)
	if err != nil {
		return 0, mapErr("prune signup requests", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func (t *tx) CreateSession(ctx context.Context, s billing.Session) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, ip, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6)`, s.IDHash, s.UserID, s.CreatedAt, s.LastSeenAt, s.IP, s.UserAgent)
	return mapErr("create session", err)
}

func (t *tx) RevokeSession(ctx context.Context, idHash []byte, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL`, idHash, at)
	return mapErr("revoke session", err)
}

func (t *tx) RevokeUserSessions(ctx context.Context, userID string, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`, userID, at)
	return mapErr("revoke user sessions", err)
}

func (t *tx) SetPassword(ctx context.Context, userID, passwordHash string) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, userID, passwordHash)
	if err != nil {
		return mapErr("set password", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &billing.Error{Code: billing.ENotFound, Message: "No such user."}
	}
	return nil
}

func (t *tx) CreateSignupRequest(ctx context.Context, r billing.SignupRequest) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO signup_requests (token_hash, email, name, password_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, r.TokenHash, r.Email, r.Name, r.PasswordHash, r.CreatedAt, r.ExpiresAt)
	return mapErr("create signup request", err)
}

func (t *tx) SignupRequestForUpdate(ctx context.Context, tokenHash []byte) (billing.SignupRequest, error) {
	var r billing.SignupRequest
	err := t.tx.GetContext(ctx, &r, `SELECT token_hash, email, name, password_hash, created_at, expires_at, used_at
		FROM signup_requests WHERE token_hash = $1 FOR UPDATE`, tokenHash)
	return r, mapErr("signup request", err)
}

func (t *tx) UseSignupRequest(ctx context.Context, tokenHash []byte, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE signup_requests SET used_at = $2 WHERE token_hash = $1`, tokenHash, at)
	return mapErr("use signup request", err)
}
