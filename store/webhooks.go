package store

import (
	"context"
	"time"

	"creditline/billing"
	"creditline/billing/webhooks"
	"github.com/lib/pq"
)

// Webhooks implements webhooks.Store over the same pool.
type Webhooks struct{ s *Store }

// Webhooks is the customer-webhook store.
func (s *Store) Webhooks() Webhooks { return Webhooks{s: s} }

var _ webhooks.Store = Webhooks{}
var _ webhooks.Tx = (*tx)(nil)

// InTx runs fn in one transaction.
func (w Webhooks) InTx(ctx context.Context, fn func(webhooks.Tx) error) error {
	return w.s.inTx(ctx, func(t *tx) error { return fn(t) })
}

// endpointRow adds the events array, which sqlx cannot scan into []string.
type endpointRow struct {
	webhooks.Endpoint
	Events pq.StringArray `db:"events"`
}

func (r endpointRow) endpoint() webhooks.Endpoint {
	e := r.Endpoint
	e.Events = []string(r.Events)
	if e.Events == nil {
		e.Events = []string{}
	}
	return e
}

const endpointCols = `id, account_id, url, events, secret, created_at, disabled_at`

func (w Webhooks) EndpointsOf(ctx context.Context, accountID string) ([]webhooks.Endpoint, error) {
	var rows []endpointRow
	err := w.s.db.SelectContext(ctx, &rows, `SELECT `+endpointCols+` FROM webhook_endpoints
		WHERE account_id = $1 AND disabled_at IS NULL ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, mapErr("webhook endpoints", err)
	}
	out := make([]webhooks.Endpoint, len(rows))
	for i, r := range rows {
		out[i] = r.endpoint()
	}
	return out, nil
}

func (w Webhooks) EndpointByID(ctx context.Context, id string) (webhooks.Endpoint, error) {
	var r endpointRow
	err := w.s.db.GetContext(ctx, &r, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = $1`, id)
	if err != nil {
		return webhooks.Endpoint{}, mapErr("webhook endpoint", err)
	}
	return r.endpoint(), nil
}

const deliveryCols = `id, endpoint_id, account_id, event_id, type, payload, status, attempts, next_attempt_at, created_at, finished_at`

func (w Webhooks) DeliveryByID(ctx context.Context, id string) (webhooks.Delivery, error) {
	var d webhooks.Delivery
	err := w.s.db.GetContext(ctx, &d, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = $1`, id)
	return d, mapErr("webhook delivery", err)
}

// DeliveriesOf reads the deliveries and their attempts in one snapshot.
func (w Webhooks) DeliveriesOf(ctx context.Context, endpointID string, limit int) ([]webhooks.Delivery, error) {
	t, err := w.s.db.BeginTxx(ctx, &sqlTxReadOnlySnapshot)
	if err != nil {
		return nil, mapErr("webhook deliveries", err)
	}
	defer t.Rollback()
	var ds []webhooks.Delivery
	if err := t.SelectContext(ctx, &ds, `SELECT `+deliveryCols+` FROM webhook_deliveries
		WHERE endpoint_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, endpointID, limit); err != nil {
		return nil, mapErr("webhook deliveries", err)
	}
	ids := make([]string, len(ds))
	at := make(map[string]int, len(ds))
	for i, d := range ds {
		ids[i], at[d.ID] = d.ID, i
	}
	var as []webhooks.Attempt
	if err := t.SelectContext(ctx, &as, `SELECT delivery_id, n, at, http_status, duration_ms, response_excerpt, error
		FROM webhook_attempts WHERE delivery_id = ANY($1) ORDER BY delivery_id, n`, pq.Array(ids)); err != nil {
		return nil, mapErr("webhook attempts", err)
	}
	for _, a := range as {
		ds[at[a.DeliveryID]].Log = append(ds[at[a.DeliveryID]].Log, a)
	}
	return ds, nil
}

// InsertEventDeliveries is billing.AccountEventsTx: one statement finds the subscribed
// endpoints (most accounts have none), a second inserts their deliveries.
func (t *tx) InsertEventDeliveries(ctx context.Context, d billing.EventDelivery, newID func() string) ([]string, error) {
	var eps []string
	if err := t.tx.SelectContext(ctx, &eps, `SELECT id FROM webhook_endpoints
		WHERE account_id = $1 AND disabled_at IS NULL AND (cardinality(events) = 0 OR $2 = ANY(events))
		ORDER BY id`, d.AccountID, d.Type); err != nil {
		return nil, mapErr("event endpoints", err)
	}
	if len(eps) == 0 {
		return nil, nil
	}
	ids := make([]string, len(eps))
	for i := range eps {
		ids[i] = newID()
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO webhook_deliveries
		(id, endpoint_id, account_id, event_id, type, payload, status, next_attempt_at, created_at)
		SELECT d.id, d.endpoint_id, $3, $4, $5, $6, 'pending', $7, $7 FROM unnest($1::text[], $2::text[]) AS d(id, endpoint_id)`,
		pq.Array(ids), pq.Array(eps), d.AccountID, d.EventID, d.Type, string(d.Payload), d.CreatedAt)
	if err != nil {
		return nil, mapErr("insert event deliveries", err)
	}
	return ids, nil
}

func (t *tx) LiveEndpointCount(ctx context.Context, accountID string) (int, error) {
	var n int
	if _, err := t.tx.ExecContext(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, accountID); err != nil {
		return 0, mapErr("lock account", err)
	}
	err := t.tx.GetContext(ctx, &n, `SELECT count(*) FROM webhook_endpoints WHERE account_id = $1 AND disabled_at IS NULL`, accountID)
	return n, mapErr("count webhook endpoints", err)
}

func (t *tx) InsertEndpoint(ctx context.Context, e webhooks.Endpoint) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO webhook_endpoints (id, account_id, url, events, secret, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, e.ID, e.AccountID, e.URL, pq.Array(e.Events), e.Secret, e.CreatedAt)
	return mapErr("insert webhook endpoint", err)
}

func (t *tx) DisableEndpoint(ctx context.Context, id string, at time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE webhook_endpoints SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL`, id, at)
	if err != nil {
		return mapErr("disable webhook endpoint", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &billing.Error{Code: billing.ENotFound, Message: "Not found."}
	}
	return nil
}

func (t *tx) InsertDelivery(ctx context.Context, d webhooks.Delivery) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO webhook_deliveries
		(id, endpoint_id, account_id, event_id, type, payload, status, next_attempt_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)`,
		d.ID, d.EndpointID, d.AccountID, d.EventID, d.Type, d.Payload, d.NextAttemptAt, d.CreatedAt)
	return mapErr("insert webhook delivery", err)
}

func (t *tx) SettleAttempt(ctx context.Context, a webhooks.Attempt, status string, next *time.Time) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE webhook_deliveries SET attempts = $2, status = $3, next_attempt_at = $4,
			finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE $5::timestamptz END
		WHERE id = $1 AND status = 'pending' AND attempts = $2 - 1`, a.DeliveryID, a.N, status, next, a.At)
	if err != nil {
		return false, mapErr("settle webhook delivery", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, n, at, http_status, duration_ms, response_excerpt, error)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, a.DeliveryID, a.N, a.At, a.HTTPStatus, a.DurationMS, a.ResponseExcerpt, a.Error)
	return true, mapErr("insert webhook attempt", err)
}

// PruneWebhookDeliveries deletes a batch of settled deliveries and their attempts in one
// statement (the attempts' foreign key is checked at its end, when both are gone).
func (s *Store) PruneWebhookDeliveries(ctx context.Context, before time.Time, limit int) (int64, error) {
	return deleted("prune webhook deliveries")(s.db.ExecContext(ctx, `WITH d AS (
			SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND finished_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED),
		a AS (DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM d))
		DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM d)`, before, limit))
}
