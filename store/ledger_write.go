package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"creditline/billing"
)

// writeLedgerSQL writes a whole ledger transaction in ONE statement: debits, usage events
// with their daily rollups, grant balances, ledger entries (in order) and account caches.
// Each part reads its rows from parallel arrays; empty arrays write nothing.
const writeLedgerSQL = `WITH
d AS (INSERT INTO debits (` + debitCols + `)
	SELECT x.id, x.acc, x.key, x.hash, x.amt, x.req, x.od, NULLIF(x.hold, ''), x.bal, x.avail, x.actor, x.reason, $1
	FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::text[],
		$10::bigint[], $11::bigint[], $12::text[], $13::text[]) AS x(id, acc, key, hash, amt, req, od, hold, bal, avail, actor, reason)),
u AS (INSERT INTO usage_events (` + usageCols + `)
	SELECT x.id, x.acc, x.deb, x.action, x.model, x.qs::json, x.attrs::json, x.credits, x.cost, x.ver, x.bd::json,
		x.key, x.key_id, x.ip, NULLIF(x.meta, '')::json, x.ph, x.batch, NULLIF(x.hold, ''), x.warn::text[], x.occurred::timestamptz, $1, x.mem
	FROM unnest($14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::bigint[],
		$22::bigint[], $23::bigint[], $24::text[], $25::text[], $26::text[], $27::text[], $28::text[], $29::text[],
		$30::boolean[], $31::text[], $32::text[], $33::text[], $54::text[])
		AS x(id, acc, deb, action, model, qs, attrs, credits, cost, ver, bd, key, key_id, ip, meta, ph, batch, hold, warn, occurred, mem)
	RETURNING account_id, occurred_at, action, model, credits, vendor_cost_micro_usd),
r AS (INSERT INTO usage_daily AS r (account_id, day, action, model, events, credits, vendor_cost_micro_usd)
	SELECT account_id, (occurred_at AT TIME ZONE 'UTC')::date, action, model, count(*), sum(credits), sum(vendor_cost_micro_usd)
	FROM u GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
	ON CONFLICT (account_id, day, action, model) DO UPDATE SET events = r.events + excluded.events,
		credits = r.credits + excluded.credits, vendor_cost_micro_usd = r.vendor_cost_micro_usd + excluded.vendor_cost_micro_usd),
g AS (UPDATE grants g SET remaining = x.rem, expired_at = COALESCE(NULLIF(x.exp, '')::timestamptz, g.expired_at)
	FROM unnest($34::text[], $35::bigint[], $36::text[]) AS x(id, rem, exp) WHERE g.id = x.id),
e AS (INSERT INTO ledger_entries (account_id, grant_id, debit_id, hold_id, kind, amount, balance_after, actor, reason, created_at)
	SELECT x.acc, NULLIF(x.grant_id, ''), NULLIF(x.debit_id, ''), NULLIF(x.hold_id, ''), x.kind, x.amt, x.bal, x.actor, x.reason, $1
	FROM unnest($37::text[], $38::text[], $39::text[], $40::text[], $41::text[], $42::bigint[], $43::bigint[], $44::text[], $45::text[])
		WITH ORDINALITY AS x(acc, grant_id, debit_id, hold_id, kind, amt, bal, actor, reason, ord)
	ORDER BY x.ord),
l AS MATERIALIZED (SELECT x.* FROM unnest($46::text[], $47::bigint[], $48::bigint[], $49::bigint[], $50::text[], $51::bigint[], $52::bigint[], $53::bigint[])
		AS x(id, bal, res, debt, start, spent, topup, ver),
	LATERAL (SELECT 1 FROM accounts WHERE id = x.id FOR NO KEY UPDATE OFFSET 0) k),
a AS (UPDATE accounts a SET balance = x.bal, reserved = x.res, debt = x.debt, period_start = NULLIF(x.start, '')::timestamptz, period_spent = x.spent, last_topup = x.topup
	FROM l x WHERE a.id = x.id AND (x.ver < 0 OR a.version = x.ver)
	RETURNING a.id)
SELECT ledger_expect((SELECT count(*) FROM a), cardinality($46::text[]))`

// The main query reads a, so the account rows are locked (by l, in the order of the sorted
// array, whatever join the update uses), checked and updated while the statement runs,
// before the other sub-statements, which PostgreSQL completes afterwards: a stale version
// stops the statement before anything else is written, and account locks are always taken
// first and in id order, as on the locking path.

// WriteLedger writes everything a ledger transaction decided, with one round trip.
func (t *tx) WriteLedger(ctx context.Context, w billing.LedgerWrites) error {
	if len(w.Debits)+len(w.Usage)+len(w.Grants)+len(w.Entries)+len(w.States) == 0 {
		return nil
	}
	args, err := ledgerArgs(w)
	if err != nil {
		return err
	}
	return mapErr("write ledger", t.hot(writeLedgerSQL).Exec(ctx, args...))
}

func ledgerArgs(w billing.LedgerWrites) ([]any, error) {
	args := []any{w.At}
	args = append(args, debitArrays(w.Debits)...)
	ua, members, err := usageArrays(w.Usage)
	if err != nil {
		return nil, err
	}
	args = append(args, ua...)
	args = append(args, grantArrays(w.Grants)...)
	args = append(args, entryArrays(w.Entries)...)
	args = append(args, stateArrays(w.States)...)
	return append(args, members), nil // $54: the usage events' members
}

// CommitLedger writes w as a transaction of its own: one statement, applied only if every
// account is at its state's version.
func (s *Store) CommitLedger(ctx context.Context, w billing.LedgerWrites) error {
	args, err := ledgerArgs(w)
	if err != nil {
		return err
	}
	if st := s.prepared(writeLedgerSQL); st != nil {
		_, err = st.ExecContext(ctx, args...)
	} else {
		_, err = s.db.ExecContext(ctx, writeLedgerSQL, args...)
	}
	return mapErr("commit ledger", err)
}

func debitArrays(ds []billing.Debit) []any {
	n := len(ds)
	id, acc, key, hash, hold, actor, reason := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	amt, req, od, bal, avail := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, d := range ds {
		id[i], acc[i], key[i], hash[i], actor[i], reason[i], hold[i] = d.ID, d.AccountID, d.IdempotencyKey, d.RequestHash, d.Actor, d.Reason, deref(d.HoldID)
		amt[i], req[i], od[i], bal[i], avail[i] = int64(d.Amount), int64(d.Requested), int64(d.Overdraft), int64(d.BalanceAfter), int64(d.AvailableAfter)
	}
	return []any{textArray(id), textArray(acc), textArray(key), textArray(hash), int64Array(amt), int64Array(req), int64Array(od),
		textArray(hold), int64Array(bal), int64Array(avail), textArray(actor), textArray(reason)}
}

// usageArrays returns the usage columns ($14-$33) and, apart, their members ($54).
func usageArrays(us []billing.UsageEvent) ([]any, any, error) {
	n := len(us)
	str := func() []string { return make([]string, n) }
	id, acc, deb, action, model, qs, attrs, bd, key, keyID, ip, meta, ph, hold, warn := str(), str(), str(), str(), str(), str(), str(), str(), str(), str(), str(), str(), str(), str(), str()
	credits, cost, ver, batch, occurred, mem := make([]int64, n), make([]int64, n), make([]int64, n), make([]bool, n), make([]string, n), make([]string, n)
	for i, u := range us {
		q, err1 := json.Marshal(u.Quantities)
		a, err2 := json.Marshal(u.Attributes)
		b, err3 := json.Marshal(u.Breakdown)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, nil, fmt.Errorf("store: usage %s: cannot encode", u.ID)
		}
		id[i], acc[i], deb[i], action[i], model[i], qs[i], attrs[i], bd[i] = u.ID, u.AccountID, u.DebitID, u.Action, u.Model, string(q), string(a), string(b)
		key[i], keyID[i], ip[i], meta[i], ph[i], hold[i], warn[i] = u.IdempotencyKey, u.APIKeyID, u.ClientIP, string(u.Metadata), u.PromptHash, deref(u.HoldID), textArray(u.Warnings)
		credits[i], cost[i], ver[i], batch[i] = int64(u.Credits), u.VendorCostMicroUSD, int64(u.PriceVersion), u.Batch
		occurred[i], mem[i] = u.OccurredAt.UTC().Format(time.RFC3339Nano), u.MemberID
	}
	return []any{textArray(id), textArray(acc), textArray(deb), textArray(action), textArray(model), textArray(qs), textArray(attrs),
		int64Array(credits), int64Array(cost), int64Array(ver), textArray(bd), textArray(key), textArray(keyID), textArray(ip),
		textArray(meta), textArray(ph), boolArray(batch), textArray(hold), textArray(warn), textArray(occurred)}, textArray(mem), nil
}

func grantArrays(cs []billing.GrantChange) []any {
	ids, rem, exp := make([]string, len(cs)), make([]int64, len(cs)), make([]string, len(cs))
	for i, c := range cs {
		ids[i], rem[i], exp[i] = c.ID, int64(c.Remaining), timeText(c.ExpiredAt)
	}
	return []any{textArray(ids), int64Array(rem), textArray(exp)}
}

func entryArrays(es []billing.Entry) []any {
	n := len(es)
	acc, grant, debit, hold, kind, actor, reason := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	amt, bal := make([]int64, n), make([]int64, n)
	for i, e := range es {
		acc[i], grant[i], debit[i], hold[i], kind[i], actor[i], reason[i] = e.AccountID, deref(e.GrantID), deref(e.DebitID), deref(e.HoldID), e.Kind, e.Actor, e.Reason
		amt[i], bal[i] = int64(e.Amount), int64(e.BalanceAfter)
	}
	return []any{textArray(acc), textArray(grant), textArray(debit), textArray(hold), textArray(kind), int64Array(amt), int64Array(bal), textArray(actor), textArray(reason)}
}

func stateArrays(ss []billing.LedgerState) []any {
	n := len(ss)
	ids, start := make([]string, n), make([]string, n)
	bal, res, debt, spent, topup, ver := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, s := range ss {
		ids[i], start[i] = s.AccountID, timeText(s.PeriodStart)
		bal[i], res[i], debt[i], spent[i], topup[i], ver[i] = int64(s.Balance), int64(s.Reserved), int64(s.Debt), int64(s.PeriodSpent), int64(s.LastTopup), s.Version
	}
	return []any{textArray(ids), int64Array(bal), int64Array(res), int64Array(debt), textArray(start), int64Array(spent), int64Array(topup), int64Array(ver)}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// timeText is a nullable time as array text: "" stands for NULL.
func timeText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
