package store

import (
	"context"
	"time"

	"creditline/billing"
	"github.com/lib/pq"
)

const grantCols = `id, account_id, source, amount, remaining, priority, effective_at, expires_at, expired_at, paid_amount,
	currency, stripe_checkout_session, stripe_payment_intent, stripe_invoice, idempotency_key, request_hash, actor, reason, created_at`

const holdCols = `id, account_id, amount, status, expires_at, idempotency_key, request_hash, debit_id, actor, reason, created_at, closed_at,
	action, attributes, quantities, api_key_id`

const debitCols = `id, account_id, idempotency_key, request_hash, amount, requested, overdraft, hold_id, balance_after,
	available_after, actor, reason, created_at`

// LockAccounts takes row locks in id order, so concurrent batches never deadlock.
func (t *tx) LockAccounts(ctx context.Context, ids []string) ([]billing.Account, error) {
	var out []billing.Account
	err := t.tx.SelectContext(ctx, &out, `SELECT `+accountCols+` FROM accounts WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, pq.Array(ids))
	return out, mapErr("lock accounts", err)
}

func (t *tx) LiveGrants(ctx context.Context, accountIDs []string) ([]billing.Grant, error) {
	var out []billing.Grant
	err := t.tx.SelectContext(ctx, &out, `SELECT `+grantCols+` FROM grants
		WHERE account_id = ANY($1) AND remaining > 0
		ORDER BY account_id, priority, expires_at NULLS LAST, created_at, id`, pq.Array(accountIDs))
	return out, mapErr("live grants", err)
}

func (t *tx) DebitsByKeys(ctx context.Context, keys []billing.AccountKey) ([]billing.Debit, error) {
	accs := make([]string, len(keys))
	ks := make([]string, len(keys))
	for i, k := range keys {
		accs[i], ks[i] = k.AccountID, k.Key
	}
	var out []billing.Debit
	err := t.tx.SelectContext(ctx, &out, `SELECT `+debitCols+` FROM debits
		WHERE (account_id, idempotency_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, pq.Array(accs), pq.Array(ks))
	return out, mapErr("debits by keys", err)
}

func (t *tx) DebitByKeyTx(ctx context.Context, accountID, key string) (billing.Debit, error) {
	var d billing.Debit
	err := t.tx.GetContext(ctx, &d, `SELECT `+debitCols+` FROM debits WHERE account_id = $1 AND idempotency_key = $2`, accountID, key)
	return d, mapErr("debit by key", err)
}

func (t *tx) GrantByKey(ctx context.Context, accountID, key string) (billing.Grant, error) {
	var g billing.Grant
	err := t.tx.GetContext(ctx, &g, `SELECT `+grantCols+` FROM grants WHERE account_id = $1 AND idempotency_key = $2`, accountID, key)
	return g, mapErr("grant by key", err)
}

func (t *tx) GrantByID(ctx context.Context, id string) (billing.Grant, error) {
	var g billing.Grant
	err := t.tx.GetContext(ctx, &g, `SELECT `+grantCols+` FROM grants WHERE id = $1`, id)
	return g, mapErr("grant by id", err)
}

func (t *tx) HoldByIDTx(ctx context.Context, id string) (billing.Hold, error) {
	var h billing.Hold
	err := t.tx.GetContext(ctx, &h, `SELECT `+holdCols+` FROM holds WHERE id = $1`, id)
	return h, mapErr("hold by id", err)
}

func (t *tx) HoldByKey(ctx context.Context, accountID, key string) (billing.Hold, error) {
	var h billing.Hold
	err := t.tx.GetContext(ctx, &h, `SELECT `+holdCols+` FROM holds WHERE account_id = $1 AND idempotency_key = $2`, accountID, key)
	return h, mapErr("hold by key", err)
}

func (t *tx) InsertGrants(ctx context.Context, gs []billing.Grant) error {
	for _, g := range gs {
		_, err := t.tx.NamedExecContext(ctx, `INSERT INTO grants (`+grantCols+`) VALUES (:id, :account_id, :source, :amount,
			:remaining, :priority, :effective_at, :expires_at, :expired_at, :paid_amount, :currency, :stripe_checkout_session,
			:stripe_payment_intent, :stripe_invoice, :idempotency_key, :request_hash, :actor, :reason, :created_at)`, g)
		if err != nil {
			return mapErr("insert grant", err)
		}
	}
	return nil
}

func (t *tx) InsertHolds(ctx context.Context, hs []billing.Hold) error {
	for _, h := range hs {
		_, err := t.tx.NamedExecContext(ctx, `INSERT INTO holds (`+holdCols+`) VALUES (:id, :account_id, :amount, :status,
			:expires_at, :idempotency_key, :request_hash, :debit_id, :actor, :reason, :created_at, :closed_at,
			:action, CAST(COALESCE(NULLIF(:attributes, ''), '{}') AS jsonb), CAST(COALESCE(NULLIF(:quantities, ''), '{}') AS jsonb), :api_key_id)`, h)
		if err != nil {
			return mapErr("insert hold", err)
		}
	}
	return nil
}

func (t *tx) SetHolds(ctx context.Context, hs []billing.Hold) error {
	for _, h := range hs {
		_, err := t.tx.ExecContext(ctx, `UPDATE holds SET status = $2, debit_id = $3, closed_at = $4, amount = $5 WHERE id = $1`,
			h.ID, h.Status, h.DebitID, h.ClosedAt, h.Amount)
		if err != nil {
			return mapErr("set hold", err)
		}
	}
	return nil
}

// InsertDebits writes many debits with one statement. All rows of one call share created_at.
func (t *tx) InsertDebits(ctx context.Context, ds []billing.Debit) error {
	if len(ds) == 0 {
		return nil
	}
	n := len(ds)
	id, acc, key, hash, hold, actor, reason := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	amt, req, od, bal, avail := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, d := range ds {
		id[i], acc[i], key[i], hash[i], actor[i], reason[i] = d.ID, d.AccountID, d.IdempotencyKey, d.RequestHash, d.Actor, d.Reason
		if d.HoldID != nil {
			hold[i] = *d.HoldID
		}
		amt[i], req[i], od[i], bal[i], avail[i] = int64(d.Amount), int64(d.Requested), int64(d.Overdraft), int64(d.BalanceAfter), int64(d.AvailableAfter)
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO debits (`+debitCols+`)
		SELECT u.id, u.acc, u.key, u.hash, u.amt, u.req, u.od, NULLIF(u.hold, ''), u.bal, u.avail, u.actor, u.reason, $13
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[],
			$9::bigint[], $10::bigint[], $11::text[], $12::text[]) AS u(id, acc, key, hash, amt, req, od, hold, bal, avail, actor, reason)`,
		pq.Array(id), pq.Array(acc), pq.Array(key), pq.Array(hash), pq.Array(amt), pq.Array(req), pq.Array(od), pq.Array(hold),
		pq.Array(bal), pq.Array(avail), pq.Array(actor), pq.Array(reason), ds[0].CreatedAt)
	return mapErr("insert debits", err)
}

// SetGrants updates many grants' remaining with one statement.
func (t *tx) SetGrants(ctx context.Context, cs []billing.GrantChange) error {
	if len(cs) == 0 {
		return nil
	}
	ids, rem, exp := make([]string, len(cs)), make([]int64, len(cs)), make([]string, len(cs))
	for i, c := range cs {
		ids[i], rem[i] = c.ID, int64(c.Remaining)
		if c.ExpiredAt != nil {
			exp[i] = c.ExpiredAt.UTC().Format(time.RFC3339Nano)
		}
	}
	_, err := t.tx.ExecContext(ctx, `UPDATE grants g SET remaining = u.rem,
			expired_at = COALESCE(NULLIF(u.exp, '')::timestamptz, g.expired_at)
		FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u(id, rem, exp) WHERE g.id = u.id`,
		pq.Array(ids), pq.Array(rem), pq.Array(exp))
	return mapErr("set grants", err)
}

// InsertEntries appends ledger lines in order with one statement.
func (t *tx) InsertEntries(ctx context.Context, es []billing.Entry) error {
	if len(es) == 0 {
		return nil
	}
	n := len(es)
	acc, grant, debit, hold, kind, actor, reason := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	amt, bal := make([]int64, n), make([]int64, n)
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	for i, e := range es {
		acc[i], grant[i], debit[i], hold[i], kind[i], actor[i], reason[i] = e.AccountID, str(e.GrantID), str(e.DebitID), str(e.HoldID), e.Kind, e.Actor, e.Reason
		amt[i], bal[i] = int64(e.Amount), int64(e.BalanceAfter)
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO ledger_entries (account_id, grant_id, debit_id, hold_id, kind, amount, balance_after, actor, reason, created_at)
		SELECT u.acc, NULLIF(u.grant_id, ''), NULLIF(u.debit_id, ''), NULLIF(u.hold_id, ''), u.kind, u.amt, u.bal, u.actor, u.reason, $10
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[], $9::text[])
			WITH ORDINALITY AS u(acc, grant_id, debit_id, hold_id, kind, amt, bal, actor, reason, ord)
		ORDER BY u.ord`,
		pq.Array(acc), pq.Array(grant), pq.Array(debit), pq.Array(hold), pq.Array(kind), pq.Array(amt), pq.Array(bal),
		pq.Array(actor), pq.Array(reason), es[0].CreatedAt)
	return mapErr("insert entries", err)
}

// SetLedgerStates writes many accounts' cached balance, reserved and debt with one statement.
func (t *tx) SetLedgerStates(ctx context.Context, ss []billing.LedgerState) error {
	if len(ss) == 0 {
		return nil
	}
	n := len(ss)
	ids, start := make([]string, n), make([]string, n)
	bal, res, debt, spent, topup := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, s := range ss {
		ids[i], bal[i], res[i], debt[i], spent[i], topup[i] = s.AccountID, int64(s.Balance), int64(s.Reserved), int64(s.Debt), int64(s.PeriodSpent), int64(s.LastTopup)
		if s.PeriodStart != nil {
			start[i] = s.PeriodStart.UTC().Format(time.RFC3339Nano)
		}
	}
	_, err := t.tx.ExecContext(ctx, `UPDATE accounts a SET balance = u.bal, reserved = u.res, debt = u.debt,
			period_start = NULLIF(u.start, '')::timestamptz, period_spent = u.spent, last_topup = u.topup
		FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::bigint[])
			AS u(id, bal, res, debt, start, spent, topup) WHERE a.id = u.id`,
		pq.Array(ids), pq.Array(bal), pq.Array(res), pq.Array(debt), pq.Array(start), pq.Array(spent), pq.Array(topup))
	return mapErr("set ledger states", err)
}

func (t *tx) ActiveHolds(ctx context.Context, accountID string) ([]billing.Hold, error) {
	var out []billing.Hold
	err := t.tx.SelectContext(ctx, &out, `SELECT `+holdCols+` FROM holds WHERE account_id = $1 AND status = 'active'
		ORDER BY created_at DESC, id DESC`, accountID)
	return out, mapErr("active holds", err)
}
