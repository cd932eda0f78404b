package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"creditline/billing"
)

// affected maps an UPDATE that touched no row to not_found.
// affected maps an update or delete that touched no row to not_found.
func affected(op string, res sql.Result, err error) error {
	if err != nil {
		return mapErr(op, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &billing.Error{Code: billing.ENotFound, Message: "Not found."}
	}
	return nil
}

const eventCols = `id, type, status, outcome, attempts, created, received_at, processed_at`

// ClaimEvent inserts the event on first sight, then locks its row: a concurrent delivery of
// the same event waits here and then sees it processed.
func (t *tx) ClaimEvent(ctx context.Context, ev billing.EventRecord) (billing.EventRecord, error) {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO stripe_events (id, type, status, created, received_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`, ev.ID, ev.Type, ev.Status, ev.Created, ev.ReceivedAt)
	if err != nil {
		return billing.EventRecord{}, mapErr("claim event", err)
	}
	var out billing.EventRecord
	err = t.tx.GetContext(ctx, &out, `UPDATE stripe_events SET attempts = attempts + 1 WHERE id = $1 RETURNING `+eventCols, ev.ID)
	return out, mapErr("claim event", err)
}

func (t *tx) FinishEvent(ctx context.Context, id, outcome string, at time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE stripe_events SET status = 'processed', outcome = $2, processed_at = $3 WHERE id = $1`, id, outcome, at)
	return affected("finish event", res, err)
}

// RecordEventFailure keeps the failed attempt; a processed event is never marked failed.
func (s *Store) RecordEventFailure(ctx context.Context, ev billing.EventRecord, errText string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO stripe_events (id, type, status, outcome, attempts, created, received_at)
		VALUES ($1, $2, 'failed', $3, 1, $4, $5)
		ON CONFLICT (id) DO UPDATE SET status = 'failed', outcome = EXCLUDED.outcome, attempts = stripe_events.attempts + 1
		WHERE stripe_events.status <> 'processed'`, ev.ID, ev.Type, errText, ev.Created, ev.ReceivedAt)
	return mapErr("record event failure", err)
}

func (s *Store) EventByID(ctx context.Context, id string) (billing.EventRecord, error) {
	var out billing.EventRecord
	err := s.db.GetContext(ctx, &out, `SELECT `+eventCols+` FROM stripe_events WHERE id = $1`, id)
	return out, mapErr("event by id", err)
}

// GrantByStripeRef prefers the payment intent (packs, recharges), then the invoice (plans).
func (t *tx) GrantByStripeRef(ctx context.Context, paymentIntent, invoice string) (billing.Grant, error) {
	var g billing.Grant
	err := t.tx.GetContext(ctx, &g, `SELECT `+grantCols+` FROM grants
		WHERE ($1 <> '' AND stripe_payment_intent = $1) OR ($2 <> '' AND stripe_invoice = $2)
		ORDER BY (stripe_payment_intent = $1) DESC NULLS LAST, created_at LIMIT 1`, paymentIntent, invoice)
	return g, mapErr("grant by stripe ref", err)
}

func (t *tx) SubscriptionLots(ctx context.Context, accountID string) ([]billing.SubscriptionLot, error) {
	var out []billing.SubscriptionLot
	err := t.tx.SelectContext(ctx, &out, `SELECT g.id,
			(SELECT count(*) FROM grants l WHERE l.account_id = g.account_id AND l.source = 'subscription'
				AND (l.created_at, l.id) > (g.created_at, g.id)) AS carried
		FROM grants g WHERE g.account_id = $1 AND g.source = 'subscription' AND g.remaining > 0
		ORDER BY g.created_at, g.id`, accountID)
	return out, mapErr("subscription lots", err)
}

const refundCols = `charge_id, account_id, grant_id, charge_amount, amount_refunded, revoked, shortfall, updated_at`

func (t *tx) RefundForUpdate(ctx context.Context, chargeID string) (billing.Refund, error) {
	var r billing.Refund
	err := t.tx.GetContext(ctx, &r, `SELECT `+refundCols+` FROM refunds WHERE charge_id = $1 FOR UPDATE`, chargeID)
	return r, mapErr("refund", err)
}

func (t *tx) UpsertRefund(ctx context.Context, r billing.Refund) error {
	_, err := t.tx.NamedExecContext(ctx, `INSERT INTO refunds (`+refundCols+`)
		VALUES (:charge_id, :account_id, :grant_id, :charge_amount, :amount_refunded, :revoked, :shortfall, :updated_at)
		ON CONFLICT (charge_id) DO UPDATE SET amount_refunded = EXCLUDED.amount_refunded, revoked = EXCLUDED.revoked,
			shortfall = EXCLUDED.shortfall, updated_at = EXCLUDED.updated_at`, r)
	return mapErr("upsert refund", err)
}

func (t *tx) InsertAbuseFlag(ctx context.Context, f billing.AbuseFlag) error {
	ev, err := json.Marshal(f.Evidence)
	if err != nil {
		return fmt.Errorf("store: abuse evidence: %w", err)
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO abuse_flags (account_id, kind, ref, evidence, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, ref) DO NOTHING`, f.AccountID, f.Kind, f.Ref, string(ev), f.CreatedAt)
	return mapErr("insert abuse flag", err)
}

func (s *Store) ListAbuseFlags(ctx context.Context, accountID string) ([]billing.AbuseFlag, error) {
	var rows []struct {
		ID        int64     `db:"id"`
		Status    string    `db:"status"`
		AccountID string    `db:"account_id"`
		Kind      string    `db:"kind"`
		Ref       string    `db:"ref"`
		Evidence  []byte    `db:"evidence"`
		CreatedAt time.Time `db:"created_at"`
	}
	err := s.db.SelectContext(ctx, &rows, `SELECT id, status, account_id, kind, ref, evidence, created_at FROM abuse_flags
		WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, mapErr("list abuse flags", err)
	}
	out := make([]billing.AbuseFlag, len(rows))
	for i, r := range rows {
		out[i] = billing.AbuseFlag{ID: r.ID, Status: r.Status, AccountID: r.AccountID, Kind: r.Kind, Ref: r.Ref, CreatedAt: r.CreatedAt}
		if err := json.Unmarshal(r.Evidence, &out[i].Evidence); err != nil {
			return nil, fmt.Errorf("store: abuse evidence: %w", err)
		}
	}
	return out, nil
}

const notificationCols = `id, account_id, kind, level, message, link, key, created_at, read_at`

func (t *tx) InsertNotification(ctx context.Context, n billing.Notification) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO notifications (account_id, kind, level, message, link, key, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_id, key) DO NOTHING`,
		n.AccountID, n.Kind, n.Level, n.Message, n.Link, n.Key, n.CreatedAt)
	return mapErr("insert notification", err)
}

func (s *Store) ListNotifications(ctx context.Context, accountID string, limit int) ([]billing.Notification, error) {
	var out []billing.Notification
	err := s.db.SelectContext(ctx, &out, `SELECT `+notificationCols+`, rule_id FROM notifications WHERE account_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, accountID, limit)
	return out, mapErr("list notifications", err)
}
