package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"creditline/billing/simulate"
	"creditline/billing/value"
)

var _ simulate.Store = (*Store)(nil)

func (s *Store) CountUsage(ctx context.Context, from, to time.Time) (int64, error) {
	var n int64
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM usage_events WHERE occurred_at >= $1 AND occurred_at < $2`, from.UTC(), to.UTC())
	return n, mapErr("count usage", err)
}

// StreamUsage reads the events row by row (never all at once); the plan multiplier is the
// account's plan's now, as usage_events does not repeat it.
func (s *Store) StreamUsage(ctx context.Context, from, to time.Time, fn func(ev *simulate.Event) error) error {
	rows, err := s.db.QueryContext(ctx, `
		SELECT e.account_id, e.action, e.quantities::text, e.attributes::text, a.plan_key,
			(p.multiplier * 10000)::bigint, e.batch, e.occurred_at, e.credits, e.vendor_cost_micro_usd
		FROM usage_events e JOIN accounts a ON a.id = e.account_id JOIN plans p ON p.key = a.plan_key
		WHERE e.occurred_at >= $1 AND e.occurred_at < $2`, from.UTC(), to.UTC())
	if err != nil {
		return mapErr("stream usage", err)
	}
	defer rows.Close()
	var ev simulate.Event
	var qs, attrs []byte
	for rows.Next() {
		var mult int64
		if err := rows.Scan(&ev.AccountID, &ev.Action, &qs, &attrs, &ev.Plan, &mult, &ev.Batch, &ev.At, &ev.Credits, &ev.CostMicroUSD); err != nil {
			return mapErr("stream usage", err)
		}
		ev.PlanMultiplier = value.Multiplier(mult)
		ev.Quantities, ev.Attributes = nil, nil
		if err := json.Unmarshal(qs, &ev.Quantities); err != nil {
			return fmt.Errorf("store: stream usage: quantities: %w", err)
		}
		if err := json.Unmarshal(attrs, &ev.Attributes); err != nil {
			return fmt.Errorf("store: stream usage: attributes: %w", err)
		}
		if err := fn(&ev); err != nil {
			return err
		}
	}
	return mapErr("stream usage", rows.Err())
}

func (s *Store) AvailableBalances(ctx context.Context) (map[string]value.Credits, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, balance - reserved FROM accounts`)
	if err != nil {
		return nil, mapErr("available balances", err)
	}
	defer rows.Close()
	out := map[string]value.Credits{}
	for rows.Next() {
		var id string
		var c value.Credits
		if err := rows.Scan(&id, &c); err != nil {
			return nil, mapErr("available balances", err)
		}
		out[id] = c
	}
	return out, mapErr("available balances", rows.Err())
}
