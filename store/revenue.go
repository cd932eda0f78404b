package store

import (
	"context"
	"time"

	"creditline/billing/revenue"
	"github.com/lib/pq"
)

// Revenue implements revenue.Store over the same pool: the consumer of ledger entries
// (migration 0023) and the rollups the revenue report and margin read.
type Revenue struct{ s *Store }

// Revenue is the revenue store.
func (s *Store) Revenue() Revenue { return Revenue{s: s} }

var _ revenue.Store = Revenue{}
var _ revenue.Tx = revTx{}

type revTx struct{ t *tx }

// InTx runs fn in one transaction.
func (r Revenue) InTx(ctx context.Context, fn func(revenue.Tx) error) error {
	return r.s.inTx(ctx, func(t *tx) error { return fn(revTx{t: t}) })
}

func (r revTx) LockCursor(ctx context.Context) (revenue.Cursor, error) {
	var row struct {
		Consumed int64          `db:"consumed"`
		Upto     int64          `db:"pending_upto"`
		Vxids    pq.StringArray `db:"pending_vxids"`
	}
	// Short batch queries: compiling them (JIT) would cost more than running them.
	if _, err := r.t.tx.ExecContext(ctx, `SET LOCAL jit = off`); err != nil {
		return revenue.Cursor{}, mapErr("revenue jit", err)
	}
	err := r.t.tx.GetContext(ctx, &row, `SELECT consumed, pending_upto, pending_vxids FROM revenue_cursor WHERE id = 1 FOR UPDATE`)
	return revenue.Cursor{Consumed: row.Consumed, PendingUpto: row.Upto, PendingVxids: row.Vxids}, mapErr("revenue cursor", err)
}

func (r revTx) SaveCursor(ctx context.Context, c revenue.Cursor) error {
	vx := c.PendingVxids
	if vx == nil {
		vx = []string{}
	}
	_, err := r.t.tx.ExecContext(ctx, `UPDATE revenue_cursor SET consumed = $1, pending_upto = $2, pending_vxids = $3, updated_at = now() WHERE id = 1`,
		c.Consumed, c.PendingUpto, pq.StringArray(vx))
	return mapErr("save revenue cursor", err)
}

// Horizon is the ledger horizon (LedgerHorizon), shared with the abuse fold.
func (r revTx) Horizon(ctx context.Context) (int64, []string, error) { return r.t.LedgerHorizon(ctx) }

// AnyRunning: see LedgerWritersRunning.
func (r revTx) AnyRunning(ctx context.Context, vxids []string) (bool, error) {
	return r.t.LedgerWritersRunning(ctx, vxids)
}

// LedgerHorizon is the highest ledger id handed out so far, then the transactions that may
// still write entries up to it. It reads the sequence first, then the lock holders, in two
// statements: a writer that drew an id before the first read holds its RowExclusiveLock (taken
// when its INSERT was planned) until it ends, so the second read lists it. Only this
// database's locks count: databases cloned from one template share relation oids. Once none
// of the listed transactions runs (LedgerWritersRunning), every id up to the horizon is
// committed or gone for good. This needs the sequence's CACHE 1 (the bigserial default).
func (t *tx) LedgerHorizon(ctx context.Context) (int64, []string, error) {
	var upto int64
	err := t.tx.GetContext(ctx, &upto, `SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END
		FROM ledger_entries_id_seq`)
	if err != nil {
		return 0, nil, mapErr("ledger horizon", err)
	}
	var vx pq.StringArray
	err = t.tx.GetContext(ctx, &vx, `SELECT COALESCE(array_agg(DISTINCT virtualtransaction), '{}') FROM pg_locks
		WHERE locktype = 'relation' AND relation = 'ledger_entries'::regclass AND mode = 'RowExclusiveLock'
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND pid IS DISTINCT FROM pg_backend_pid()`)
	return upto, vx, mapErr("ledger writers", err)
}

// LedgerWritersRunning looks for each transaction's own virtualxid lock, held until it ends.
func (t *tx) LedgerWritersRunning(ctx context.Context, vxids []string) (bool, error) {
	var n int
	err := t.tx.GetContext(ctx, &n, `SELECT count(*) FROM pg_locks WHERE locktype = 'virtualxid' AND virtualxid = ANY($1)`,
		pq.StringArray(vxids))
	return n > 0, mapErr("ledger writers running", err)
}

// EntriesBetween joins each entry's grant and, for a debit, its usage event (by its unique
// debit_id). Which entry of a debit is its first is decided by the caller: ledger_entries has
// no index on debit_id (0008 dropped it from the hot path).
func (r revTx) EntriesBetween(ctx context.Context, after, upto int64, limit int) ([]revenue.Entry, error) {
	var out []revenue.Entry
	err := r.t.tx.SelectContext(ctx, &out, `SELECT e.id, e.kind, COALESCE(e.grant_id, '') AS grant_id, e.amount, e.created_at,
			COALESCE(g.source, '') AS source, COALESCE(g.amount, 0) AS grant_amount, COALESCE(g.paid_amount, 0) AS paid_amount,
			COALESCE(g.currency, '') AS currency, COALESCE(g.test_mode, false) AS test_mode,
			COALESCE(u.action, '') AS action, COALESCE(u.model, '') AS model,
			COALESCE(u.vendor_cost_micro_usd, 0) AS vendor_cost,
			COALESCE((SELECT sum(CASE WHEN q.value ~ '^[0-9]{1,15}(\.[0-9]+)?$' THEN floor(q.value::numeric) ELSE 0 END)
				FROM json_each_text(u.quantities) q), 0)::bigint AS units,
			COALESCE(u.occurred_at, e.created_at) AS occurred_at, COALESCE(e.debit_id, '') AS debit_id
		FROM ledger_entries e
		LEFT JOIN grants g ON g.id = e.grant_id
		LEFT JOIN usage_events u ON e.kind = 'debit' AND u.debit_id = e.debit_id
		WHERE e.id > $1 AND e.id <= $2 AND e.kind IN ('grant', 'debit', 'expire', 'revoke', 'adjust')
		ORDER BY e.id LIMIT $3`, after, upto, limit)
	return out, mapErr("revenue entries", err)
}

// DebitsBetween lists the debit ids of entries after..upto (a short, already consumed range).
func (r revTx) DebitsBetween(ctx context.Context, after, upto int64) ([]string, error) {
	var out []string
	err := r.t.tx.SelectContext(ctx, &out, `SELECT DISTINCT debit_id FROM ledger_entries
		WHERE id > $1 AND id <= $2 AND kind = 'debit' AND debit_id IS NOT NULL`, after, upto)
	return out, mapErr("revenue recent debits", err)
}

func (r revTx) GrantStates(ctx context.Context, ids []string) ([]revenue.GrantState, error) {
	var out []revenue.GrantState
	if len(ids) == 0 {
		return nil, nil
	}
	err := r.t.tx.SelectContext(ctx, &out, `SELECT grant_id, used, moved FROM revenue_grants WHERE grant_id = ANY($1) FOR UPDATE`, pq.StringArray(ids))
	return out, mapErr("revenue grant states", err)
}

func (r revTx) SaveGrantStates(ctx context.Context, gs []revenue.GrantState) error {
	if len(gs) == 0 {
		return nil
	}
	ids, used, moved := make([]string, len(gs)), make([]int64, len(gs)), make([]int64, len(gs))
	for i, g := range gs {
		ids[i], used[i], moved[i] = g.GrantID, g.Used, g.Moved
	}
	_, err := r.t.tx.ExecContext(ctx, `INSERT INTO revenue_grants (grant_id, used, moved)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
		ON CONFLICT (grant_id) DO UPDATE SET used = EXCLUDED.used, moved = EXCLUDED.moved`,
		pq.StringArray(ids), pq.Int64Array(used), pq.Int64Array(moved))
	return mapErr("save revenue grant states", err)
}

func dates(ts []time.Time) pq.StringArray {
	out := make(pq.StringArray, len(ts))
	for i, t := range ts {
		out[i] = t.UTC().Format(time.DateOnly)
	}
	return out
}

func (r revTx) AddMonthly(ctx context.Context, ms []revenue.Monthly) error {
	if len(ms) == 0 {
		return nil
	}
	n := len(ms)
	mo, cur := make([]time.Time, n), make([]string, n)
	cols := make([][]int64, 7)
	for i := range cols {
		cols[i] = make([]int64, n)
	}
	for i, m := range ms {
		mo[i], cur[i] = m.Month, m.Currency
		for j, v := range []int64{m.CashPacks, m.CashSubscriptions, m.CashRecharges, m.CashOther, m.Recognised, m.Breakage, m.Refunds} {
			cols[j][i] = v
		}
	}
	_, err := r.t.tx.ExecContext(ctx, `INSERT INTO revenue_monthly AS r (month, currency, cash_packs, cash_subscriptions,
			cash_recharges, cash_other, recognised, breakage, refunds)
		SELECT * FROM unnest($1::date[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
		ON CONFLICT (month, currency) DO UPDATE SET cash_packs = r.cash_packs + EXCLUDED.cash_packs,
			cash_subscriptions = r.cash_subscriptions + EXCLUDED.cash_subscriptions, cash_recharges = r.cash_recharges + EXCLUDED.cash_recharges,
			cash_other = r.cash_other + EXCLUDED.cash_other, recognised = r.recognised + EXCLUDED.recognised,
			breakage = r.breakage + EXCLUDED.breakage, refunds = r.refunds + EXCLUDED.refunds`,
		dates(mo), pq.StringArray(cur), pq.Int64Array(cols[0]), pq.Int64Array(cols[1]), pq.Int64Array(cols[2]),
		pq.Int64Array(cols[3]), pq.Int64Array(cols[4]), pq.Int64Array(cols[5]), pq.Int64Array(cols[6]))
	return mapErr("add revenue monthly", err)
}

func (r revTx) AddMargin(ctx context.Context, ms []revenue.MarginAdd) error {
	if len(ms) == 0 {
		return nil
	}
	n := len(ms)
	mo, cur, act, model, rec := make([]time.Time, n), make([]string, n), make([]string, n), make([]string, n), make([]int64, n)
	for i, m := range ms {
		mo[i], cur[i], act[i], model[i], rec[i] = m.Month, m.Currency, m.Action, m.Model, m.Recognised
	}
	_, err := r.t.tx.ExecContext(ctx, `INSERT INTO revenue_margin AS r (month, currency, action, model, recognised)
		SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::text[], $5::bigint[])
		ON CONFLICT (month, currency, action, model) DO UPDATE SET recognised = r.recognised + EXCLUDED.recognised`,
		dates(mo), pq.StringArray(cur), pq.StringArray(act), pq.StringArray(model), pq.Int64Array(rec))
	return mapErr("add revenue margin", err)
}

func (r revTx) AddCosts(ctx context.Context, cs []revenue.CostAdd) error {
	if len(cs) == 0 {
		return nil
	}
	n := len(cs)
	mo, act, model, ev, cr, vc := make([]time.Time, n), make([]string, n), make([]string, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, c := range cs {
		mo[i], act[i], model[i], ev[i], cr[i], vc[i] = c.Month, c.Action, c.Model, c.Events, c.Credits, c.VendorCost
	}
	_, err := r.t.tx.ExecContext(ctx, `INSERT INTO usage_cost_monthly AS r (month, action, model, events, credits, vendor_cost_micro_usd)
		SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])
		ON CONFLICT (month, action, model) DO UPDATE SET events = r.events + EXCLUDED.events, credits = r.credits + EXCLUDED.credits,
			vendor_cost_micro_usd = r.vendor_cost_micro_usd + EXCLUDED.vendor_cost_micro_usd`,
		dates(mo), pq.StringArray(act), pq.StringArray(model), pq.Int64Array(ev), pq.Int64Array(cr), pq.Int64Array(vc))
	return mapErr("add usage cost monthly", err)
}

func (r revTx) AddUnits(ctx context.Context, us []revenue.UnitsAdd) error {
	if len(us) == 0 {
		return nil
	}
	n := len(us)
	day, model, ev, un, vc := make([]time.Time, n), make([]string, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, u := range us {
		day[i], model[i], ev[i], un[i], vc[i] = u.Day, u.Model, u.Events, u.Units, u.VendorCost
	}
	_, err := r.t.tx.ExecContext(ctx, `INSERT INTO usage_units_daily AS r (day, model, events, units, vendor_cost_micro_usd)
		SELECT * FROM unnest($1::date[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
		ON CONFLICT (day, model) DO UPDATE SET events = r.events + EXCLUDED.events, units = r.units + EXCLUDED.units,
			vendor_cost_micro_usd = r.vendor_cost_micro_usd + EXCLUDED.vendor_cost_micro_usd`,
		dates(day), pq.StringArray(model), pq.Int64Array(ev), pq.Int64Array(un), pq.Int64Array(vc))
	return mapErr("add usage units daily", err)
}

func (r Revenue) MonthlyThrough(ctx context.Context, month time.Time) ([]revenue.Monthly, error) {
	var out []revenue.Monthly
	err := r.s.db.SelectContext(ctx, &out, `SELECT month, currency, cash_packs, cash_subscriptions, cash_recharges, cash_other,
			recognised, breakage, refunds
		FROM revenue_monthly WHERE month <= $1::date ORDER BY currency, month`, month.UTC().Format(time.DateOnly))
	return out, mapErr("revenue monthly", err)
}

func (r Revenue) MarginOf(ctx context.Context, month time.Time) ([]revenue.MarginRow, error) {
	var out []revenue.MarginRow
	err := r.s.db.SelectContext(ctx, &out, `SELECT COALESCE(c.action, m.action) AS action, COALESCE(c.model, m.model) AS model,
			COALESCE(c.events, 0) AS events, COALESCE(c.credits, 0) AS credits, COALESCE(c.vendor_cost_micro_usd, 0) AS vendor_cost,
			COALESCE(m.recognised, 0) AS revenue_usd
		FROM (SELECT * FROM usage_cost_monthly WHERE month = $1::date) c
		FULL JOIN (SELECT action, model, recognised FROM revenue_margin WHERE month = $1::date AND currency = 'usd') m
			ON m.action = c.action AND m.model = c.model
		ORDER BY 1, 2`, month.UTC().Format(time.DateOnly))
	return out, mapErr("revenue margin", err)
}
