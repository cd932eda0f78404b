package store

import (
	"context"

	"creditline/billing"
)

const auditCols = `id, at, actor_kind, actor_id, action, account_id, reason, before, after, request_id, idempotency_key, request_hash`

func (t *tx) InsertAudit(ctx context.Context, e billing.AuditEntry) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor_kind, actor_id, action, account_id, reason, before, after,
			request_id, idempotency_key, request_hash)
		VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, '')::jsonb, NULLIF($8, '')::jsonb, $9, $10, $11)`,
		e.At, e.ActorKind, e.ActorID, e.Action, e.AccountID, e.Reason, string(e.Before), string(e.After),
		e.RequestID, e.IdempotencyKey, e.RequestHash)
	return mapErr("insert audit", err)
}

func (t *tx) AuditByKey(ctx context.Context, accountID, key string) (billing.AuditEntry, error) {
	var e billing.AuditEntry
	err := t.tx.GetContext(ctx, &e, `SELECT `+auditCols+` FROM audit_log WHERE account_id = $1 AND idempotency_key = $2`, accountID, key)
	return e, mapErr("audit by key", err)
}

func (s *Store) AuditPage(ctx context.Context, f billing.AuditFilter) ([]billing.AuditEntry, error) {
	var kind, id string
	if f.Actor != nil {
		kind, id = f.Actor.Kind, f.Actor.ID
	}
	var out []billing.AuditEntry
	err := s.db.SelectContext(ctx, &out, `SELECT `+auditCols+` FROM audit_log
		WHERE ($1 = '' OR account_id = $1) AND ($2 = '' OR actor_kind = $2) AND ($3 = '' OR actor_id = $3)
			AND ($4 = 0 OR id < $4)
		ORDER BY id DESC LIMIT $5`, f.AccountID, kind, id, f.BeforeID, f.Limit)
	return out, mapErr("audit page", err)
}
