package store

import (
	"context"
	"time"

	"creditline/billing"
)

const outboxCols = `id, kind, to_addr, subject, body, html_body, created_at, sent_at, status, attempts, last_error`

// Outbox pages by id (keyset): ids only grow, so "below before" is stable under new mail.
func (s *Store) Outbox(ctx context.Context, before int64, limit int) ([]billing.Mail, error) {
	var out []billing.Mail
	err := s.db.SelectContext(ctx, &out, `SELECT `+outboxCols+` FROM outbox
		WHERE $1 = 0 OR id < $1 ORDER BY id DESC LIMIT $2`, before, limit)
	return out, mapErr("outbox", err)
}

func (s *Store) StartMailAttempt(ctx context.Context, id int64) (billing.Mail, error) {
	var m billing.Mail
	err := s.db.GetContext(ctx, &m, `UPDATE outbox SET attempts = attempts + 1
		WHERE id = $1 AND status = 'queued' RETURNING `+outboxCols, id)
	return m, mapErr("start mail attempt", err)
}

func (s *Store) SettleMail(ctx context.Context, id int64, status, lastError string, sentAt *time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET status = $2, last_error = $3, sent_at = $4
		WHERE id = $1 AND status = 'queued'`, id, status, lastError, sentAt)
	return mapErr("settle mail", err)
}

func (s *Store) PruneSentMail(ctx context.Context, before time.Time, limit int) (int64, error) {
	return deleted("prune sent mail")(s.db.ExecContext(ctx, `DELETE FROM outbox WHERE id IN (
		SELECT id FROM outbox WHERE status = 'sent' AND sent_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, before, limit))
}

func (t *tx) QueueMail(ctx context.Context, m billing.Mail) (int64, error) {
	var id int64
	err := t.tx.GetContext(ctx, &id, `INSERT INTO outbox (kind, to_addr, subject, body, html_body, created_at, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, m.Kind, m.To, m.Subject, m.Body, m.HTML, m.CreatedAt, m.Status)
	return id, mapErr("queue mail", err)
}
