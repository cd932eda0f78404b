package store

import (
	"context"
	"encoding/json"
	"fmt"

	"creditline/billing"
	"github.com/lib/pq"
)

// bulkUsageSQL writes one chunk of bulk events in a single statement: generated rows (a
// template picked by a multiplicative hash of the event number, a uniform random time in the
// window), then the grant, the debits with their running balance, the ledger entries in
// order (the grant's first), the usage events, the daily rollups and the account's spend.
// Every CTE reads the one materialised "run", so all tables see the same rows.
const bulkUsageSQL = `
WITH tpl AS (
	SELECT (t.ord - 1)::bigint AS i, t.action, t.model, t.qs, t.attrs, t.credits, t.cost, t.ver, t.bd
	FROM unnest($7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::int[], $14::text[])
		WITH ORDINALITY AS t(action, model, qs, attrs, credits, cost, ver, bd, ord)
),
acc AS (SELECT balance, reserved, period_start, period_spent FROM accounts WHERE id = $1),
gen AS MATERIALIZED (
	SELECT g.g, $2 || '_' || lpad(g.g::text, 9, '0') AS sfx, t.action, t.model, t.qs, t.attrs, t.credits, t.cost, t.ver, t.bd,
		$5::timestamptz - random() * $6::double precision * interval '1 second' AS occurred_at
	FROM generate_series($3::bigint + 1, $3::bigint + $4::bigint) AS g(g)
	JOIN tpl t ON t.i = (g.g * 2654435761) % (SELECT count(*) FROM tpl)
),
tot AS (SELECT COALESCE(sum(credits), 0)::bigint AS s FROM gen),
run AS MATERIALIZED (
	SELECT gen.*, (SELECT balance FROM acc) + (SELECT s FROM tot) - sum(credits) OVER (ORDER BY g) AS bal_after FROM gen
),
ins_grant AS (
	INSERT INTO grants (id, account_id, source, amount, remaining, priority, effective_at, actor, reason, created_at)
	SELECT $15, $1, 'promo', s, 0, $16, $5, $17, $18, $5 FROM tot WHERE s > 0
),
ins_debits AS (
	INSERT INTO debits (id, account_id, idempotency_key, request_hash, amount, requested, overdraft, balance_after,
		available_after, actor, reason, created_at)
	SELECT 'deb_' || sfx, $1, 'bulk-' || sfx, '', credits, credits, 0, bal_after, bal_after - (SELECT reserved FROM acc),
		$17, action, $5
	FROM run
),
ins_entries AS (
	INSERT INTO ledger_entries (account_id, grant_id, debit_id, kind, amount, balance_after, actor, reason, created_at)
	SELECT $1, $15, x.debit_id, x.kind, x.amount, x.bal, $17, x.reason, $5
	FROM (
		SELECT 0::bigint AS ord, NULL::text AS debit_id, 'grant' AS kind, s AS amount, (SELECT balance FROM acc) + s AS bal, $18::text AS reason
		FROM tot WHERE s > 0
		UNION ALL
		SELECT g, 'deb_' || sfx, 'debit', -credits, bal_after, action FROM run WHERE credits > 0
	) x
	ORDER BY x.ord
),
ins_usage AS (
	INSERT INTO usage_events (id, account_id, debit_id, action, model, quantities, attributes, credits, vendor_cost_micro_usd,
		price_version, breakdown, idempotency_key, occurred_at, created_at)
	SELECT 'use_' || sfx, $1, 'deb_' || sfx, action, model, qs::json, attrs::json, credits, cost, ver, bd::json,
		'bulk-' || sfx, occurred_at, $5
	FROM run ORDER BY occurred_at
),
ins_daily AS (
	INSERT INTO usage_daily AS d (account_id, day, action, model, events, credits, vendor_cost_micro_usd)
	SELECT $1, (occurred_at AT TIME ZONE 'UTC')::date, action, model, count(*), sum(credits), sum(cost)
	FROM run GROUP BY 2, 3, 4 ORDER BY 2, 3, 4
	ON CONFLICT (account_id, day, action, model) DO UPDATE SET events = d.events + excluded.events,
		credits = d.credits + excluded.credits, vendor_cost_micro_usd = d.vendor_cost_micro_usd + excluded.vendor_cost_micro_usd
)
UPDATE accounts a SET period_start = $19,
	period_spent = CASE WHEN a.period_start = $19 THEN a.period_spent ELSE 0 END + (SELECT s FROM tot)
WHERE a.id = $1
RETURNING (SELECT s FROM tot)`

// BulkUsage writes one chunk of bulk events; the caller holds the account's lock.
func (t *tx) BulkUsage(ctx context.Context, in billing.BulkUsageInput) (billing.Credits, error) {
	n := len(in.Templates)
	action, model, qs, attrs, bd := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	credits, cost, ver := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, tp := range in.Templates {
		q, _ := json.Marshal(tp.Quantities)
		a, _ := json.Marshal(tp.Attributes)
		b, err := json.Marshal(tp.Quote.Breakdown)
		if err != nil {
			return 0, fmt.Errorf("store: bulk breakdown: %w", err)
		}
		action[i], model[i], qs[i], attrs[i], bd[i] = tp.Action, tp.Attributes["model"], string(q), string(a), string(b)
		credits[i], cost[i], ver[i] = int64(tp.Quote.Credits), tp.Quote.VendorCostMicroUSD, int64(tp.Quote.PriceVersion)
	}
	var total billing.Credits
	err := t.tx.GetContext(ctx, &total, bulkUsageSQL, in.AccountID, in.Run, in.Offset, in.Count, in.Now,
		int64(in.Window.Seconds()), pq.Array(action), pq.Array(model), pq.Array(qs), pq.Array(attrs), pq.Array(credits),
		pq.Array(cost), pq.Array(ver), pq.Array(bd), in.GrantID, in.Priority, in.Actor, in.Reason, in.PeriodStart)
	return total, mapErr("bulk usage", err)
}

// VacuumUsage vacuums and analyzes the tables a bulk write filled, so the planner has fresh
// statistics and the dashboard's index-only scans need not visit the heap (and autovacuum
// does not start on them during the next requests).
func (s *Store) VacuumUsage(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `VACUUM (ANALYZE) usage_events, usage_daily, debits, ledger_entries, grants`)
	return mapErr("vacuum", err)
}
