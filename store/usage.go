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
	occurred_at, created_at, member_id`

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
			AND ($9 = '' OR member_id = $9)
		ORDER BY occurred_at DESC, id DESC LIMIT $8`,
		f.AccountID, f.Action, f.Model, f.From, f.To, f.AfterTime, f.AfterID, f.Limit, f.MemberID)
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
