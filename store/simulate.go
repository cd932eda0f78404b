package store

import (
	"context"
	"database/sql"
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

// StreamUsage reads the events grouped by everything that prices them (account, action,
// quantities, attributes, batch, plan, and the UTC weekday and hour that pick a schedule
// window), so PostgreSQL does the counting and each group is priced once; rows are read one
// at a time, never all at once. The plan multiplier is the account's plan's now, as
// usage_events does not repeat it.
func (s *Store) StreamUsage(ctx context.Context, from, to time.Time, fn func(ev *simulate.Event) error) error {
	// A read-only transaction of its own: work_mem lets the grouping hash in memory (the
	// planner cannot know how few groups there are and would sort, spilling to disk).
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return mapErr("stream usage", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	if _, err := tx.ExecContext(ctx, `SET LOCAL work_mem = '256MB'`); err != nil {
		return mapErr("stream usage", err)
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT g.account_id, g.action, g.quantities, g.attributes, a.plan_key, (p.multiplier * 10000)::bigint,
			g.batch, g.at, g.n, g.credits, g.cost
		FROM (
			SELECT account_id, action, quantities::text AS quantities, attributes::text AS attributes, batch,
				min(occurred_at) AS at, count(*) AS n, sum(credits)::bigint AS credits,
				sum(vendor_cost_micro_usd)::bigint AS cost
			FROM usage_events
			WHERE occurred_at >= $1 AND occurred_at < $2
			GROUP BY 1, 2, 3, 4, 5, extract(isodow FROM occurred_at AT TIME ZONE 'UTC'),
				extract(hour FROM occurred_at AT TIME ZONE 'UTC')
		) g JOIN accounts a ON a.id = g.account_id JOIN plans p ON p.key = a.plan_key`,
		from.UTC(), to.UTC())
	if err != nil {
		return mapErr("stream usage", err)
	}
	defer rows.Close()
	var ev simulate.Event
	var qs, attrs []byte
	for rows.Next() {
		var mult int64
		if err := rows.Scan(&ev.AccountID, &ev.Action, &qs, &attrs, &ev.Plan, &mult, &ev.Batch, &ev.At, &ev.Count,
			&ev.Credits, &ev.CostMicroUSD); err != nil {
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
