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

// CountUsage is the events of the days [from, to) touches, from the daily rollups (an index
// read; a count of the events themselves would read them all): the simulation's progress total.
func (s *Store) CountUsage(ctx context.Context, from, to time.Time) (int64, error) {
	var n int64
	err := s.db.GetContext(ctx, &n, `SELECT COALESCE(sum(events), 0)::bigint FROM usage_daily WHERE day >= $1::date AND day <= $2::date`,
		from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly))
	return n, mapErr("count usage", err)
}

// CountUsageEvents counts every usage event, the slow way (benchmarks print it for scale).
func (s *Store) CountUsageEvents(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM usage_events`)
	return n, mapErr("count usage events", err)
}

// streamSQL reads the events of [$1, $2) grouped by everything that prices them. Fresh slices
// (usage_daily still shows the figures they were folded at) come from the rollup for their
// whole hours inside [$3, $4) = [from rounded up, to rounded down to the hour); the rest (stale
// or unfolded slices, today's, and the partial hours at both ends) from usage_events through
// usage_account_action_model_idx. All of it from one snapshot (one statement).
const streamSQL = `WITH
sl AS MATERIALIZED (
	SELECT d.account_id, d.day, d.action, d.model, (d.day::timestamp AT TIME ZONE 'UTC') AS lo,
		((d.day + 1)::timestamp AT TIME ZONE 'UTC') AS hi,
		COALESCE((s.events, s.credits, s.vendor_cost_micro_usd) = (d.events, d.credits, d.vendor_cost_micro_usd), false) AS fresh
	FROM usage_daily d LEFT JOIN usage_price_slices s USING (account_id, day, action, model)
	WHERE d.day >= $5::date AND d.day <= $6::date
),
rng AS (
	SELECT account_id, action, model, greatest(lo, $1) AS lo, least(hi, $2) AS hi FROM sl WHERE NOT fresh
	UNION ALL
	SELECT account_id, action, model, greatest(lo, $1), least(hi, $3) FROM sl WHERE fresh
	UNION ALL
	SELECT account_id, action, model, greatest(lo, $4), least(hi, $2) FROM sl WHERE fresh
),
g AS (
	SELECT r.account_id, r.action, r.quantities, r.attributes, r.batch,
		(r.day::timestamp AT TIME ZONE 'UTC') + r.hour * interval '1 hour' AS at, r.events AS n, r.credits,
		r.vendor_cost_micro_usd AS cost
	FROM sl JOIN usage_price_inputs r USING (account_id, day, action, model)
	WHERE sl.fresh AND (r.day::timestamp AT TIME ZONE 'UTC') + r.hour * interval '1 hour' >= $3
		AND (r.day::timestamp AT TIME ZONE 'UTC') + r.hour * interval '1 hour' < $4
	UNION ALL
	SELECT u.account_id, u.action, u.quantities::text, ` + priceAttrs + `, u.batch, u.occurred_at, 1, u.credits,
		u.vendor_cost_micro_usd
	FROM rng x JOIN usage_events u ON u.account_id = x.account_id AND u.action = x.action AND u.model = x.model
		AND u.occurred_at >= x.lo AND u.occurred_at < x.hi
	WHERE x.lo < x.hi
)
SELECT g.account_id, g.action, g.quantities, g.attributes, a.plan_key, (p.multiplier * 10000)::bigint, g.batch,
	min(g.at), sum(g.n)::bigint, sum(g.credits)::bigint, sum(g.cost)::bigint
FROM g JOIN accounts a ON a.id = g.account_id JOIN plans p ON p.key = a.plan_key
GROUP BY g.account_id, g.action, g.quantities, g.attributes, a.plan_key, p.multiplier, g.batch,
	extract(isodow FROM g.at AT TIME ZONE 'UTC'), extract(hour FROM g.at AT TIME ZONE 'UTC')`

// StreamUsage reads the events grouped by everything that prices them (account, action,
// quantities, attributes, batch, plan, and the UTC weekday and hour that pick a schedule
// window), so PostgreSQL does the counting and each group is priced once; most of them come
// from the price-input rollup (migration 0025), folded off the debit path. Rows are read one
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
	from, to = from.UTC(), to.UTC()
	fromCeil := from.Truncate(time.Hour)
	if fromCeil.Before(from) {
		fromCeil = fromCeil.Add(time.Hour)
	}
	if fromCeil.After(to) {
		fromCeil = to
	}
	toFloor := to.Truncate(time.Hour)
	if toFloor.Before(fromCeil) {
		toFloor = fromCeil
	}
	rows, err := tx.QueryContext(ctx, streamSQL, from, to, fromCeil, toFloor, from.Format(time.DateOnly), to.Format(time.DateOnly))
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
