package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"creditline/billing"
	"creditline/billing/abuse"
	"creditline/billing/revenue"
	"github.com/lib/pq"
)

// Abuse implements abuse.Store over the same pool. It reads the ledger only by primary-key
// range behind the cursor (Fold) and otherwise its own rollups, so the debit path pays nothing.
type Abuse struct{ s *Store }

// Abuse is the abuse detection store.
func (s *Store) Abuse() Abuse { return Abuse{s: s} }

var _ abuse.Store = Abuse{}
var _ abuse.Tx = (*tx)(nil)

// InTx runs fn in one transaction.
func (a Abuse) InTx(ctx context.Context, fn func(abuse.Tx) error) error {
	return a.s.inTx(ctx, func(t *tx) error { return fn(t) })
}

func (a Abuse) EnqueueJob(ctx context.Context, j billing.Job) error { return a.s.EnqueueJob(ctx, j) }

func (a Abuse) UsageDaily(ctx context.Context, accountID string, from, to time.Time) ([]billing.DailyUsage, error) {
	return a.s.UsageDaily(ctx, accountID, from, to)
}

// drainableSources are the grant sources the drained-grant detector looks at (money paid or a
// trial handed out). The fold keeps only these as fresh grants: a million promotional grants
// given at once made every detector run probe each of them (4–6 s a minute over 1,000,000
// accounts).
const drainableSources = `('purchase', 'trial', 'subscription', 'auto_recharge')`

// foldSQL folds the ledger entries with ids in ($1, $3], at most $2, into the rollups. The
// caller has made sure every id up to $3 is committed or gone (LedgerHorizon). A debit's
// entries (one per grant drawn, written by one statement) count its event once: a debit with
// an entry among the DebitSpan ids before the batch was counted there.
const foldSQL = `
WITH batch AS MATERIALIZED (
	SELECT id, account_id, kind, grant_id, debit_id, created_at FROM ledger_entries
	WHERE id > $1 AND id <= $3 ORDER BY id LIMIT $2
),
debits AS (
	SELECT DISTINCT debit_id FROM batch WHERE kind = 'debit' AND debit_id IS NOT NULL
	EXCEPT
	SELECT debit_id FROM ledger_entries WHERE id > $1 - $5 AND id <= $1 AND kind = 'debit' AND debit_id IS NOT NULL
),
ev AS MATERIALIZED (
	SELECT u.account_id, date_trunc('hour', u.occurred_at) AS hour, u.credits,
		COALESCE(NULLIF(u.prompt_hash, ''), u.metadata->>'prompt_hash', '') AS ph
	FROM usage_events u WHERE u.debit_id = ANY (ARRAY(SELECT debit_id FROM debits)) -- one unique-index probe each
),
ins_usage AS (
	INSERT INTO abuse_usage_hourly AS h (account_id, hour, events, credits)
	SELECT account_id, hour, count(*), sum(credits) FROM ev GROUP BY 1, 2 ORDER BY 1, 2
	ON CONFLICT (account_id, hour) DO UPDATE SET events = h.events + excluded.events, credits = h.credits + excluded.credits
),
ins_prompt AS (
	INSERT INTO abuse_prompt_hourly AS p (prompt_hash, hour, account_id, events)
	SELECT ph, hour, account_id, count(*) FROM ev WHERE ph <> '' AND length(ph) <= 128 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
	ON CONFLICT (prompt_hash, hour, account_id) DO UPDATE SET events = p.events + excluded.events
),
ins_grants AS (
	INSERT INTO abuse_fresh_grants (grant_id, account_id, created_at)
	SELECT b.grant_id, b.account_id, b.created_at FROM batch b JOIN grants g ON g.id = b.grant_id
	WHERE b.kind = 'grant' AND b.created_at >= $4 AND g.source IN ` + drainableSources + `
	ON CONFLICT (grant_id) DO NOTHING
)
SELECT COALESCE((SELECT max(id) FROM batch), $1) AS last_id, (SELECT count(*) FROM batch)::int AS entries,
	(SELECT count(*) FROM ev)::int AS events`

// LockFoldCursor reads the abuse fold's cursor (created at first use) and holds it.
func (t *tx) LockFoldCursor(ctx context.Context) (abuse.FoldCursor, error) {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO abuse_cursor (name, last_id, updated_at) VALUES ('ledger', 0, now())
		ON CONFLICT (name) DO NOTHING`); err != nil {
		return abuse.FoldCursor{}, mapErr("abuse cursor", err)
	}
	var row struct {
		Last  int64          `db:"last_id"`
		Upto  int64          `db:"pending_upto"`
		Vxids pq.StringArray `db:"pending_vxids"`
	}
	err := t.tx.GetContext(ctx, &row, `SELECT last_id, pending_upto, pending_vxids FROM abuse_cursor WHERE name = 'ledger' FOR UPDATE`)
	return abuse.FoldCursor{LastID: row.Last, PendingUpto: row.Upto, PendingVxids: row.Vxids}, mapErr("abuse cursor", err)
}

func (t *tx) SaveFoldCursor(ctx context.Context, c abuse.FoldCursor) error {
	vx := c.PendingVxids
	if vx == nil {
		vx = []string{}
	}
	_, err := t.tx.ExecContext(ctx, `UPDATE abuse_cursor SET last_id = $1, pending_upto = $2, pending_vxids = $3, updated_at = now()
		WHERE name = 'ledger'`, c.LastID, c.PendingUpto, pq.StringArray(vx))
	return mapErr("save abuse cursor", err)
}

// FoldLedger folds one batch (foldSQL).
func (t *tx) FoldLedger(ctx context.Context, after, upto int64, limit int, grantsFrom time.Time) (abuse.FoldResult, error) {
	var res abuse.FoldResult
	err := t.tx.GetContext(ctx, &res, foldSQL, after, limit, upto, grantsFrom, revenue.DebitSpan)
	return res, mapErr("abuse fold", err)
}

func (a Abuse) AddRefusals(ctx context.Context, minute time.Time, counts map[string]int64) error {
	ids, ns := make([]string, 0, len(counts)), make([]int64, 0, len(counts))
	for id, n := range counts {
		ids, ns = append(ids, id), append(ns, n)
	}
	_, err := a.s.db.ExecContext(ctx, `INSERT INTO abuse_rate_refusals AS r (account_id, minute, refusals)
		SELECT id, $1, n FROM unnest($2::text[], $3::bigint[]) AS x(id, n)
		ON CONFLICT (account_id, minute) DO UPDATE SET refusals = r.refusals + excluded.refusals`, minute, pq.Array(ids), pq.Array(ns))
	return mapErr("abuse refusals", err)
}

func (a Abuse) Prune(ctx context.Context, before, baseFrom time.Time) error {
	_, err := a.s.db.ExecContext(ctx, `
		WITH u AS (DELETE FROM abuse_usage_hourly WHERE hour < $2),
		p AS (DELETE FROM abuse_prompt_hourly WHERE hour < $1),
		r AS (DELETE FROM abuse_rate_refusals WHERE minute < $1)
		DELETE FROM abuse_fresh_grants WHERE created_at < $1`, before, baseFrom)
	return mapErr("abuse prune", err)
}

func (a Abuse) Velocity(ctx context.Context, windowStart, baseFrom time.Time, floor billing.Credits) ([]abuse.VelocityRow, error) {
	var rows []struct {
		abuse.VelocityRow
		Base pq.Int64Array `db:"base"`
	}
	err := a.s.db.SelectContext(ctx, &rows, `
		WITH recent AS (
			SELECT account_id, sum(events)::bigint AS events, sum(credits)::bigint AS credits FROM abuse_usage_hourly
			WHERE hour >= $1 GROUP BY account_id HAVING sum(credits) >= $3
		)
		SELECT r.account_id, r.events, r.credits, COALESCE((SELECT array_agg(h.credits) FROM abuse_usage_hourly h
			WHERE h.account_id = r.account_id AND h.hour >= $2 AND h.hour < $1), '{}') AS base
		FROM recent r ORDER BY r.account_id`, windowStart, baseFrom, floor)
	if err != nil {
		return nil, mapErr("abuse velocity", err)
	}
	out := make([]abuse.VelocityRow, len(rows))
	for i, r := range rows {
		out[i] = r.VelocityRow
		out[i].Hours = r.Base
	}
	return out, nil
}

func (a Abuse) RepeatedPrompts(ctx context.Context, since time.Time, minEvents int64) ([]abuse.PromptRow, error) {
	var out []abuse.PromptRow
	err := a.s.db.SelectContext(ctx, &out, `SELECT account_id, prompt_hash, sum(events)::bigint AS events
		FROM abuse_prompt_hourly WHERE hour >= $1 GROUP BY account_id, prompt_hash HAVING sum(events) >= $2
		ORDER BY account_id, prompt_hash`, since, minEvents)
	return out, mapErr("abuse repeated prompts", err)
}

func (a Abuse) SharedPrompts(ctx context.Context, since time.Time, minAccounts int) ([]abuse.SharedRow, error) {
	var rows []struct {
		abuse.SharedRow
		Accs pq.StringArray `db:"accounts"`
	}
	err := a.s.db.SelectContext(ctx, &rows, `SELECT prompt_hash, sum(events)::bigint AS events,
			array_agg(DISTINCT account_id ORDER BY account_id) AS accounts
		FROM abuse_prompt_hourly WHERE hour >= $1 GROUP BY prompt_hash HAVING count(DISTINCT account_id) >= $2
		ORDER BY prompt_hash`, since, minAccounts)
	if err != nil {
		return nil, mapErr("abuse shared prompts", err)
	}
	out := make([]abuse.SharedRow, len(rows))
	for i, r := range rows {
		out[i] = r.SharedRow
		out[i].Accounts = r.Accs
	}
	return out, nil
}

func (a Abuse) SignupNetworks(ctx context.Context, since time.Time, minAccounts int) ([]abuse.NetworkRow, error) {
	var rows []struct {
		abuse.NetworkRow
		Accs pq.StringArray `db:"accounts"`
	}
	err := a.s.db.SelectContext(ctx, &rows, `
		WITH n AS (
			SELECT ip_prefix, array_agg(account_id ORDER BY account_id) AS accounts FROM signup_ips
			WHERE created_at >= $1 GROUP BY ip_prefix HAVING count(*) >= $2
		)
		SELECT n.ip_prefix, n.accounts, (SELECT count(*) FROM grants g
			WHERE g.account_id = ANY (n.accounts) AND g.source = 'trial') AS trials
		FROM n ORDER BY n.ip_prefix`, since, minAccounts)
	if err != nil {
		return nil, mapErr("abuse signup networks", err)
	}
	out := make([]abuse.NetworkRow, len(rows))
	for i, r := range rows {
		out[i] = r.NetworkRow
		out[i].Accounts = r.Accs
	}
	return out, nil
}

func (a Abuse) DrainedGrants(ctx context.Context, since time.Time, minAmount billing.Credits) ([]abuse.DrainedRow, error) {
	var out []abuse.DrainedRow
	err := a.s.db.SelectContext(ctx, &out, `SELECT g.id, g.account_id, g.source, g.amount, g.created_at
		FROM abuse_fresh_grants f JOIN grants g ON g.id = f.grant_id
		WHERE f.created_at >= $1 AND g.remaining * 50 <= g.amount AND g.amount >= $2 AND g.expired_at IS NULL
			-- drained by usage that happened in the grant's hour, not by events backdated before it
			AND (SELECT COALESCE(sum(h.credits), 0) FROM abuse_usage_hourly h WHERE h.account_id = g.account_id
				AND h.hour >= date_trunc('hour', g.created_at) AND h.hour < g.created_at + interval '1 hour') * 10 >= g.amount * 9
			AND g.source IN `+drainableSources+`
			AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.grant_id = g.id)
		ORDER BY g.created_at, g.id`, since, minAmount)
	return out, mapErr("abuse drained grants", err)
}

func (a Abuse) RefusalBursts(ctx context.Context, since time.Time, min int64) ([]abuse.CountRow, error) {
	var out []abuse.CountRow
	err := a.s.db.SelectContext(ctx, &out, `SELECT account_id, sum(refusals)::bigint AS n, count(*) AS other
		FROM abuse_rate_refusals WHERE minute >= $1 GROUP BY account_id HAVING sum(refusals) >= $2 ORDER BY account_id`, since, min)
	return out, mapErr("abuse refusal bursts", err)
}

// CheckoutBursts counts checkout sessions not completed (Other: completed) per account.
func (a Abuse) CheckoutBursts(ctx context.Context, since time.Time, min int64) ([]abuse.CountRow, error) {
	var out []abuse.CountRow
	err := a.s.db.SelectContext(ctx, &out, `SELECT account_id, count(*) FILTER (WHERE status <> 'complete') AS n,
			count(*) FILTER (WHERE status = 'complete') AS other
		FROM checkout_sessions WHERE created_at >= $1 GROUP BY account_id
		HAVING count(*) FILTER (WHERE status <> 'complete') >= $2 ORDER BY account_id`, since, min)
	return out, mapErr("abuse checkout bursts", err)
}

// FailedPayments counts each account's failed payments since, by source.
func (a Abuse) FailedPayments(ctx context.Context, since time.Time, min int64) ([]abuse.FailureRow, error) {
	var rows []struct {
		abuse.FailureRow
		Nets pq.StringArray `db:"networks"`
	}
	err := a.s.db.SelectContext(ctx, &rows, `SELECT account_id, count(*) AS n,
			count(*) FILTER (WHERE source = 'checkout') AS checkout, count(*) FILTER (WHERE source = 'payment_intent') AS intent,
			count(*) FILTER (WHERE source = 'auto_recharge') AS recharge,
			COALESCE(array_agg(DISTINCT ip_prefix) FILTER (WHERE ip_prefix <> ''), '{}') AS networks
		FROM payment_failures WHERE created_at >= $1 GROUP BY account_id HAVING count(*) >= $2 ORDER BY account_id`, since, min)
	if err != nil {
		return nil, mapErr("abuse failed payments", err)
	}
	out := make([]abuse.FailureRow, len(rows))
	for i, r := range rows {
		out[i] = r.FailureRow
		out[i].Networks = r.Nets
	}
	return out, nil
}

// CardNetworks counts card attempts per network since: checkout sessions opened from it and
// left unpaid, and failed payments attributed to it (a failed asynchronous checkout payment is
// its session, counted once).
func (a Abuse) CardNetworks(ctx context.Context, since time.Time, minAttempts int64, minAccounts int) ([]abuse.CardNetworkRow, error) {
	var rows []struct {
		abuse.CardNetworkRow
		Accs pq.StringArray `db:"accounts"`
	}
	err := a.s.db.SelectContext(ctx, &rows, `
		WITH tries AS (
			SELECT ci.ip_prefix, ci.account_id, 1 AS unpaid, 0 AS failed FROM checkout_ips ci
			JOIN checkout_sessions cs ON cs.id = ci.session_id
			WHERE ci.created_at >= $1 AND cs.status <> 'complete'
			UNION ALL
			SELECT ip_prefix, account_id, 0, 1 FROM payment_failures
			WHERE created_at >= $1 AND ip_prefix <> '' AND source <> 'checkout'
		)
		SELECT ip_prefix, sum(unpaid)::bigint AS unpaid, sum(failed)::bigint AS failed,
			array_agg(DISTINCT account_id ORDER BY account_id) AS accounts
		FROM tries GROUP BY ip_prefix HAVING count(*) >= $2 AND count(DISTINCT account_id) >= $3
		ORDER BY ip_prefix`, since, minAttempts, minAccounts)
	if err != nil {
		return nil, mapErr("abuse card networks", err)
	}
	out := make([]abuse.CardNetworkRow, len(rows))
	for i, r := range rows {
		out[i] = r.CardNetworkRow
		out[i].Accounts = r.Accs
	}
	return out, nil
}

const flagCols = `f.id, f.account_id, COALESCE(a.name, '') AS account_name, f.kind, f.ref, f.severity, f.status, f.evidence,
	f.created_at, f.resolved_at, f.resolved_by, f.resolution, f.note`

func (a Abuse) Flags(ctx context.Context, fl abuse.Filter) ([]abuse.Flag, error) {
	var out []abuse.Flag
	err := a.s.db.SelectContext(ctx, &out, `SELECT `+flagCols+` FROM abuse_flags f LEFT JOIN accounts a ON a.id = f.account_id
		WHERE (CASE WHEN $1 = 'resolved' THEN f.status <> 'open' ELSE f.status = $1 END) AND ($2 = '' OR f.kind = $2)
		ORDER BY f.severity DESC, f.created_at, f.id LIMIT $3`, fl.Status, fl.Kind, fl.Limit)
	return out, mapErr("abuse flags", err)
}

func (a Abuse) FlagByID(ctx context.Context, id int64) (abuse.Flag, error) {
	var f abuse.Flag
	err := a.s.db.GetContext(ctx, &f, `SELECT `+flagCols+` FROM abuse_flags f LEFT JOIN accounts a ON a.id = f.account_id
		WHERE f.id = $1`, id)
	return f, mapErr("abuse flag", err)
}

func (a Abuse) FlagsOf(ctx context.Context, accountID string) ([]abuse.Flag, error) {
	var out []abuse.Flag
	err := a.s.db.SelectContext(ctx, &out, `SELECT `+flagCols+` FROM abuse_flags f LEFT JOIN accounts a ON a.id = f.account_id
		WHERE f.account_id = $1 ORDER BY f.created_at DESC, f.id DESC LIMIT 100`, accountID)
	return out, mapErr("abuse flags of account", err)
}

func (a Abuse) Related(ctx context.Context, accountID string, since time.Time, limit int) ([]abuse.RelatedAccount, error) {
	var out []abuse.RelatedAccount
	err := a.s.db.SelectContext(ctx, &out, `
		WITH shared AS (
			SELECT o.account_id, 'network ' || o.ip_prefix AS shares FROM signup_ips me
			JOIN signup_ips o ON o.ip_prefix = me.ip_prefix AND o.account_id <> me.account_id
			WHERE me.account_id = $1
			UNION
			SELECT DISTINCT o.account_id, 'prompt ' || o.prompt_hash FROM abuse_prompt_hourly me
			JOIN abuse_prompt_hourly o ON o.prompt_hash = me.prompt_hash AND o.account_id <> me.account_id AND o.hour >= $2
			WHERE me.account_id = $1 AND me.hour >= $2
			UNION
			SELECT DISTINCT o.account_id, 'checkout network ' || o.ip_prefix FROM checkout_ips me
			JOIN checkout_ips o ON o.ip_prefix = me.ip_prefix AND o.account_id <> me.account_id AND o.created_at >= $2
			WHERE me.account_id = $1 AND me.created_at >= $2
		)
		SELECT s.account_id, a.name, a.status, s.shares FROM shared s JOIN accounts a ON a.id = s.account_id
		ORDER BY s.shares, a.name, s.account_id LIMIT $3`, accountID, since, limit)
	return out, mapErr("abuse related accounts", err)
}

// RaiseFlag inserts unless the account has an open flag of the kind, the kind and ref exist,
// or a flag of the kind was dismissed after the evidence window began.
func (t *tx) RaiseFlag(ctx context.Context, f abuse.NewFlag) (bool, error) {
	ev, err := json.Marshal(f.Evidence)
	if err != nil {
		return false, fmt.Errorf("store: abuse evidence: %w", err)
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO abuse_flags (account_id, kind, ref, evidence, severity, created_at)
		SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM accounts WHERE id = $1)
			AND NOT EXISTS (SELECT 1 FROM abuse_flags WHERE account_id = $1 AND kind = $2
				AND (status = 'open' OR (status = 'dismissed' AND resolved_at > $7)))
		ON CONFLICT (kind, ref) DO NOTHING`, f.AccountID, f.Kind, f.Ref, string(ev), f.Severity, f.At, f.Since)
	if err != nil {
		return false, mapErr("raise abuse flag", err)
	}
	n, err := res.RowsAffected()
	return n > 0, mapErr("raise abuse flag", err)
}

func (t *tx) LockFlag(ctx context.Context, id int64) (abuse.Flag, error) {
	var f abuse.Flag
	err := t.tx.GetContext(ctx, &f, `SELECT `+flagCols+` FROM abuse_flags f LEFT JOIN accounts a ON a.id = f.account_id
		WHERE f.id = $1 FOR UPDATE OF f`, id)
	return f, mapErr("lock abuse flag", err)
}

func (t *tx) ResolveFlag(ctx context.Context, id int64, status, action, note, by string, at time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE abuse_flags SET status = $2, resolution = $3, note = $4, resolved_by = $5,
		resolved_at = $6 WHERE id = $1`, id, status, action, note, by, at)
	return affected("resolve abuse flag", res, err)
}

// RecordSignupIP keeps the network an account signed up from (billing.AbuseTx).
func (t *tx) RecordSignupIP(ctx context.Context, accountID, network string, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO signup_ips (account_id, ip_prefix, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (account_id) DO NOTHING`, accountID, network, at)
	return mapErr("record signup ip", err)
}

// ClearVerification lifts a pending verification; the update bumps the account's version
// and announces the change like every account update.
func (t *tx) ClearVerification(ctx context.Context, accountID string) (bool, error) {
	var id string
	err := t.tx.GetContext(ctx, &id, `UPDATE accounts SET status_reason = '' WHERE id = $1 AND status = 'active'
		AND status_reason = $2 RETURNING id`, accountID, billing.VerificationPending)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, mapErr("clear verification", err)
}

// RecordCheckoutIP keeps the network a checkout session was opened from (billing.AbuseTx).
func (t *tx) RecordCheckoutIP(ctx context.Context, sessionID, accountID, network string, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO checkout_ips (session_id, account_id, ip_prefix, created_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (session_id) DO NOTHING`, sessionID, accountID, network, at)
	return mapErr("record checkout ip", err)
}

// RecordPaymentFailure keeps a failed payment once per ref, with the network of its checkout
// session, or else of the account's latest checkout in the day before it; an off-session
// auto-recharge has no client, so no network (billing.AbuseTx).
func (t *tx) RecordPaymentFailure(ctx context.Context, f billing.PaymentFailure) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO payment_failures (ref, account_id, source, ip_prefix, created_at)
		VALUES ($1, $2, $3, COALESCE((SELECT ip_prefix FROM checkout_ips WHERE session_id = $4),
			(SELECT ip_prefix FROM checkout_ips WHERE $3 <> 'auto_recharge' AND account_id = $2 AND created_at <= $5
				AND created_at > $5 - interval '1 day' ORDER BY created_at DESC LIMIT 1), ''), $5)
		ON CONFLICT (ref) DO NOTHING`, f.Ref, f.AccountID, f.Source, f.SessionID, f.At)
	return mapErr("record payment failure", err)
}
