package store

import (
	"context"
	"encoding/json"
	"fmt"

	"creditline/billing"
	"github.com/lib/pq"
)

// usageRow is a usage event as stored: the JSON columns as raw bytes.
type usageRow struct {
	billing.UsageEvent
	QuantitiesJSON []byte         `db:"quantities"`
	AttributesJSON []byte         `db:"attributes"`
	BreakdownJSON  []byte         `db:"breakdown"`
	MetadataJSON   []byte         `db:"metadata"`
	WarningsArr    pq.StringArray `db:"warnings"`
}

const usageCols = `id, account_id, debit_id, action, model, quantities, attributes, credits, vendor_cost_micro_usd,
	price_version, breakdown, idempotency_key, api_key_id, client_ip, metadata, prompt_hash, batch, hold_id, warnings,
	occurred_at, created_at`

func (r *usageRow) event() (billing.UsageEvent, error) {
	ev := r.UsageEvent
	if err := json.Unmarshal(r.QuantitiesJSON, &ev.Quantities); err != nil {
		return ev, fmt.Errorf("store: usage %s quantities: %w", ev.ID, err)
	}
	if err := json.Unmarshal(r.AttributesJSON, &ev.Attributes); err != nil {
		return ev, fmt.Errorf("store: usage %s attributes: %w", ev.ID, err)
	}
	if err := json.Unmarshal(r.BreakdownJSON, &ev.Breakdown); err != nil {
		return ev, fmt.Errorf("store: usage %s breakdown: %w", ev.ID, err)
	}
	if len(r.MetadataJSON) > 0 {
		ev.Metadata = json.RawMessage(r.MetadataJSON)
	}
	ev.Warnings = []string(r.WarningsArr)
	if ev.Warnings == nil {
		ev.Warnings = []string{}
	}
	return ev, nil
}

// InsertUsage writes many usage events with one statement; all share created_at.
func (t *tx) InsertUsage(ctx context.Context, us []billing.UsageEvent) error {
	if len(us) == 0 {
		return nil
	}
	n := len(us)
	id, acc, deb, action, model, qs, attrs, bd, key, keyID, ip, meta, ph, hold, warn := make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	credits, cost, ver := make([]int64, n), make([]int64, n), make([]int64, n)
	batch := make([]bool, n)
	occurred := make([]string, n)
	for i, u := range us {
		q, _ := json.Marshal(u.Quantities)
		a, _ := json.Marshal(u.Attributes)
		b, err := json.Marshal(u.Breakdown)
		if err != nil {
			return fmt.Errorf("store: usage breakdown: %w", err)
		}
		w, _ := pq.StringArray(u.Warnings).Value()
		id[i], acc[i], deb[i], action[i], model[i], qs[i], attrs[i], bd[i] = u.ID, u.AccountID, u.DebitID, u.Action, u.Model, string(q), string(a), string(b)
		key[i], keyID[i], ip[i], meta[i], ph[i], warn[i] = u.IdempotencyKey, u.APIKeyID, u.ClientIP, string(u.Metadata), u.PromptHash, w.(string)
		if u.HoldID != nil {
			hold[i] = *u.HoldID
		}
		credits[i], cost[i], ver[i], batch[i] = int64(u.Credits), u.VendorCostMicroUSD, int64(u.PriceVersion), u.Batch
		occurred[i] = u.OccurredAt.UTC().Format("2006-01-02T15:04:05.999999Z07:00")
	}
	_, err := t.tx.ExecContext(ctx, `WITH ins AS (INSERT INTO usage_events (`+usageCols+`)
		SELECT u.id, u.acc, u.deb, u.action, u.model, u.qs::jsonb, u.attrs::jsonb, u.credits, u.cost, u.ver, u.bd::jsonb,
			u.key, u.key_id, u.ip, NULLIF(u.meta, '')::jsonb, u.ph, u.batch, NULLIF(u.hold, ''), u.warn::text[], u.occurred::timestamptz, $21
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[],
			$9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
			$17::boolean[], $18::text[], $19::text[], $20::text[])
			AS u(id, acc, deb, action, model, qs, attrs, credits, cost, ver, bd, key, key_id, ip, meta, ph, batch, hold, warn, occurred)
		RETURNING account_id, occurred_at, action, model, credits, vendor_cost_micro_usd)
		INSERT INTO usage_daily AS d (account_id, day, action, model, events, credits, vendor_cost_micro_usd)
		SELECT account_id, (occurred_at AT TIME ZONE 'UTC')::date, action, model, count(*), sum(credits), sum(vendor_cost_micro_usd)
		FROM ins GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
		ON CONFLICT (account_id, day, action, model) DO UPDATE SET events = d.events + excluded.events,
			credits = d.credits + excluded.credits, vendor_cost_micro_usd = d.vendor_cost_micro_usd + excluded.vendor_cost_micro_usd`,
		pq.Array(id), pq.Array(acc), pq.Array(deb), pq.Array(action), pq.Array(model), pq.Array(qs), pq.Array(attrs),
		pq.Array(credits), pq.Array(cost), pq.Array(ver), pq.Array(bd), pq.Array(key), pq.Array(keyID), pq.Array(ip),
		pq.Array(meta), pq.Array(ph), pq.Array(batch), pq.Array(hold), pq.Array(warn), pq.Array(occurred), us[0].CreatedAt)
	return mapErr("insert usage", err)
}

func (s *Store) UsageByDebit(ctx context.Context, debitID string) (billing.UsageEvent, error) {
	var r usageRow
	if err := s.db.GetContext(ctx, &r, `SELECT `+usageCols+` FROM usage_events WHERE debit_id = $1`, debitID); err != nil {
		return billing.UsageEvent{}, mapErr("usage by debit", err)
	}
	return r.event()
}

// UsagePage is keyset-paginated on (occurred_at, id) descending; every filter has an index.
func (s *Store) UsagePage(ctx context.Context, f billing.UsageFilter) ([]billing.UsageEvent, error) {
	var rows []usageRow
	err := s.db.SelectContext(ctx, &rows, `SELECT `+usageCols+` FROM usage_events
		WHERE account_id = $1
			AND ($2 = '' OR action = $2)
			AND ($3 = '' OR model = $3)
			AND ($4::timestamptz IS NULL OR occurred_at >= $4)
			AND ($5::timestamptz IS NULL OR occurred_at < $5)
			AND ($6::timestamptz IS NULL OR (occurred_at, id) < ($6, $7))
		ORDER BY occurred_at DESC, id DESC LIMIT $8`,
		f.AccountID, f.Action, f.Model, f.From, f.To, f.AfterTime, f.AfterID, f.Limit)
	if err != nil {
		return nil, mapErr("usage page", err)
	}
	out := make([]billing.UsageEvent, len(rows))
	for i := range rows {
		if out[i], err = rows[i].event(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) AccountsByIDs(ctx context.Context, ids []string) ([]billing.Account, error) {
	var out []billing.Account
	err := s.db.SelectContext(ctx, &out, `SELECT `+accountCols+` FROM accounts WHERE id = ANY($1)`, pq.Array(ids))
	return out, mapErr("accounts by ids", err)
}

func (s *Store) CountActiveHolds(ctx context.Context, accountID string) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM holds WHERE account_id = $1 AND status = 'active'`, accountID)
	return n, mapErr("count holds", err)
}
