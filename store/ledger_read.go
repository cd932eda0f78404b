package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"creditline/billing"
	"github.com/lib/pq"
)

// BalanceOf returns the account and the part of its cached balance not usable at now.
func (s *Store) BalanceOf(ctx context.Context, accountID string, now time.Time) (billing.Account, billing.Credits, error) {
	var row struct {
		billing.Account
		Unusable billing.Credits `db:"unusable"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT a.*,
			COALESCE((SELECT sum(g.remaining) FROM grants g WHERE g.account_id = a.id AND g.remaining > 0
				AND (g.effective_at > $2 OR g.expires_at <= $2)), 0) AS unusable
		FROM (SELECT `+accountCols+` FROM accounts WHERE id = $1) a`, accountID, now)
	return row.Account, row.Unusable, mapErr("balance", err)
}

func (s *Store) UsableGrants(ctx context.Context, accountID string, now time.Time) ([]billing.Grant, error) {
	var out []billing.Grant
	err := s.db.SelectContext(ctx, &out, `SELECT `+grantCols+` FROM grants
		WHERE account_id = $1 AND remaining > 0 AND effective_at <= $2 AND (expires_at IS NULL OR expires_at > $2)
		ORDER BY priority, expires_at NULLS LAST, created_at, id`, accountID, now)
	return out, mapErr("usable grants", err)
}

// LedgerPage returns entries newest first, before the given id (0: from the newest).
func (s *Store) LedgerPage(ctx context.Context, accountID string, beforeID int64, limit int) ([]billing.Entry, error) {
	var out []billing.Entry
	err := s.db.SelectContext(ctx, &out, `SELECT id, account_id, grant_id, debit_id, hold_id, kind, amount, balance_after,
			actor, reason, created_at
		FROM ledger_entries WHERE account_id = $1 AND ($2::bigint = 0 OR id < $2) ORDER BY id DESC LIMIT $3`, accountID, beforeID, limit)
	return out, mapErr("ledger page", err)
}

func (s *Store) DebitByKey(ctx context.Context, accountID, key string) (billing.Debit, error) {
	var d billing.Debit
	err := s.db.GetContext(ctx, &d, `SELECT `+debitCols+` FROM debits WHERE account_id = $1 AND idempotency_key = $2`, accountID, key)
	return d, mapErr("debit by key", err)
}

func (s *Store) HoldByID(ctx context.Context, id string) (billing.Hold, error) {
	var h billing.Hold
	err := s.db.GetContext(ctx, &h, `SELECT `+holdCols+` FROM holds WHERE id = $1`, id)
	return h, mapErr("hold", err)
}

func (s *Store) ExpiredGrantAccounts(ctx context.Context, now time.Time, limit int) ([]string, error) {
	var ids []string
	err := s.db.SelectContext(ctx, &ids, `SELECT DISTINCT account_id FROM grants
		WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= $1 ORDER BY account_id LIMIT $2`, now, limit)
	return ids, mapErr("expired grant accounts", err)
}

func (s *Store) ExpiredHolds(ctx context.Context, now time.Time, limit int) ([]string, error) {
	var ids []string
	err := s.db.SelectContext(ctx, &ids, `SELECT id FROM holds WHERE status = 'active' AND expires_at <= $1
		ORDER BY expires_at LIMIT $2`, now, limit)
	return ids, mapErr("expired holds", err)
}

// VerifyFacts reads everything verify checks in one repeatable-read snapshot.
func (s *Store) VerifyFacts(ctx context.Context, now time.Time) (billing.VerifyFacts, error) {
	var f billing.VerifyFacts
	t, err := s.db.BeginTxx(ctx, &sqlTxReadOnlySnapshot)
	if err != nil {
		return f, mapErr("verify", err)
	}
	defer t.Rollback() //nolint:errcheck
	if err := t.SelectContext(ctx, &f.Grants, `SELECT g.id, g.account_id, g.amount, g.remaining,
			COALESCE(sum(e.amount) FILTER (WHERE e.kind IN ('debit', 'expire', 'revoke', 'adjust')), 0) AS entry_sum,
			COALESCE(sum(e.amount) FILTER (WHERE e.kind = 'grant'), 0) AS granted
		FROM grants g LEFT JOIN ledger_entries e ON e.grant_id = g.id
		GROUP BY g.id ORDER BY g.account_id, g.id`); err != nil {
		return f, mapErr("verify grants", err)
	}
	if err := t.SelectContext(ctx, &f.Accounts, `SELECT a.id, a.balance, a.reserved, a.debt, a.overdraft_limit,
			COALESCE((SELECT sum(remaining) FROM grants WHERE account_id = a.id), 0) AS sum_remaining,
			COALESCE((SELECT sum(remaining) FROM grants WHERE account_id = a.id AND effective_at > $1), 0) AS pending,
			COALESCE((SELECT sum(amount) FROM holds WHERE account_id = a.id AND status = 'active'), 0) AS active_holds,
			COALESCE((SELECT sum(amount) FROM ledger_entries WHERE account_id = a.id AND kind IN ('hold', 'release')), 0) AS hold_entries,
			COALESCE((SELECT sum(amount) FROM ledger_entries WHERE account_id = a.id AND grant_id IS NULL
				AND kind NOT IN ('hold', 'release')), 0) AS debt_entries,
			(SELECT balance_after FROM ledger_entries WHERE account_id = a.id ORDER BY id DESC LIMIT 1) AS last_balance
		FROM accounts a ORDER BY a.id`, now); err != nil {
		return f, mapErr("verify accounts", err)
	}
	if err := t.SelectContext(ctx, &f.DebitMismatches, `SELECT d.id, d.account_id, d.amount, -COALESCE(e.total, 0) AS allocations
		FROM debits d LEFT JOIN (SELECT debit_id, sum(amount) AS total FROM ledger_entries
			WHERE kind = 'debit' AND debit_id IS NOT NULL GROUP BY debit_id) e ON e.debit_id = d.id
		WHERE d.amount <> -COALESCE(e.total, 0)`); err != nil {
		return f, mapErr("verify debits", err)
	}
	var dups []struct {
		AccountID string `db:"account_id"`
		Key       string `db:"idempotency_key"`
	}
	if err := t.SelectContext(ctx, &dups, `SELECT account_id, idempotency_key FROM debits
		GROUP BY account_id, idempotency_key HAVING count(*) > 1`); err != nil {
		return f, mapErr("verify keys", err)
	}
	if err := t.SelectContext(ctx, &f.UsageWithoutOneDebit, `SELECT u.id FROM usage_events u
		LEFT JOIN debits d ON d.id = u.debit_id
		WHERE d.id IS NULL OR d.amount <> u.credits OR d.account_id <> u.account_id`); err != nil {
		return f, mapErr("verify usage", err)
	}
	if err := t.SelectContext(ctx, &f.RollupMismatches, `SELECT coalesce(e.account_id, r.account_id) FROM
		(SELECT account_id, count(*) AS n, sum(credits) AS c FROM usage_events GROUP BY account_id) e
		FULL JOIN (SELECT account_id, sum(events) AS n, sum(credits) AS c FROM usage_daily GROUP BY account_id) r
		ON r.account_id = e.account_id
		WHERE e.n IS DISTINCT FROM r.n OR e.c IS DISTINCT FROM r.c`); err != nil {
		return f, mapErr("verify rollups", err)
	}
	// Built from the rules with this package's table of kinds and letters, so it also catches
	// migration 0033's triggers spelling them otherwise.
	kinds, codes := make([]string, 0, len(ruleCopyCodes)), make([]string, 0, len(ruleCopyCodes))
	for k, c := range ruleCopyCodes {
		kinds, codes = append(kinds, k), append(codes, string(c))
	}
	if err := t.SelectContext(ctx, &f.StaleRuleCopies, `SELECT a.id FROM accounts a
		LEFT JOIN (SELECT r.account_id, string_agg(k.code || r.threshold || CASE WHEN r.firing THEN '!' ELSE '' END, ','
				ORDER BY (k.code || r.threshold || CASE WHEN r.firing THEN '!' ELSE '' END) COLLATE "C") AS rules
			FROM alert_rules r JOIN unnest($1::text[], $2::text[]) AS k(kind, code) ON k.kind = r.kind
			WHERE r.enabled GROUP BY r.account_id) r ON r.account_id = a.id
		WHERE a.debit_rules <> COALESCE(r.rules, '') ORDER BY a.id`, pq.Array(kinds), pq.Array(codes)); err != nil {
		return f, mapErr("verify rule copies", err)
	}
	// The hot tables carry no foreign keys: check every reference here instead.
	if err := t.SelectContext(ctx, &f.Orphans, `SELECT e.account_id AS account_id, 'ledger entry ' || e.id || ' names a missing row' AS detail
		FROM ledger_entries e
		LEFT JOIN accounts a ON a.id = e.account_id
		LEFT JOIN grants g ON g.id = e.grant_id
		LEFT JOIN debits d ON d.id = e.debit_id
		LEFT JOIN holds h ON h.id = e.hold_id
		WHERE a.id IS NULL OR (e.grant_id IS NOT NULL AND g.id IS NULL) OR (e.debit_id IS NOT NULL AND d.id IS NULL)
			OR (e.hold_id IS NOT NULL AND h.id IS NULL)
		UNION ALL
		SELECT d.account_id, 'debit ' || d.id || ' names a missing account or reservation' FROM debits d
		LEFT JOIN accounts a ON a.id = d.account_id LEFT JOIN holds h ON h.id = d.hold_id
		WHERE a.id IS NULL OR (d.hold_id IS NOT NULL AND h.id IS NULL)`); err != nil {
		return f, mapErr("verify references", err)
	}
	if err := t.SelectContext(ctx, &f.MemberCounters, `SELECT * FROM (SELECT m.account_id, m.id AS member_id, m.period_spent AS counter,
			COALESCE((SELECT sum(e.credits) FROM usage_events e WHERE e.account_id = m.account_id AND e.member_id = m.id
				AND e.created_at >= m.period_start), 0) AS usage
		FROM memberships m WHERE m.monthly_limit IS NOT NULL AND m.period_start IS NOT NULL) x
		WHERE counter <> usage`); err != nil {
		return f, mapErr("verify member counters", err)
	}
	for _, d := range dups {
		f.DuplicateKeys = append(f.DuplicateKeys, billing.AccountKey{AccountID: d.AccountID, Key: d.Key})
	}
	return f, nil
}

// RecentLedgerAccounts reads, in one snapshot, the accounts that moved credits most recently
// (found by walking the newest ledger entries backwards along the primary key) and their live
// grants. Nothing is locked: a cache filled from it is checked by version on every write.
func (s *Store) RecentLedgerAccounts(ctx context.Context, entries, limit int) ([]billing.Account, []billing.Grant, error) {
	t, err := s.db.BeginTxx(ctx, &sqlTxReadOnlySnapshot)
	if err != nil {
		return nil, nil, mapErr("recent accounts", err)
	}
	defer t.Rollback() //nolint:errcheck // read only
	var accs []billing.Account
	err = t.SelectContext(ctx, &accs, `SELECT a.* FROM (SELECT account_id, max(id) AS newest
			FROM (SELECT account_id, id FROM ledger_entries ORDER BY id DESC LIMIT $1) e
			GROUP BY account_id ORDER BY newest DESC LIMIT $2) r,
		LATERAL (SELECT `+accountCols+` FROM accounts WHERE id = r.account_id) a
		ORDER BY r.newest DESC`, entries, limit)
	if err != nil || len(accs) == 0 {
		return nil, nil, mapErr("recent accounts", err)
	}
	ids := make([]string, len(accs))
	for i, a := range accs {
		ids[i] = a.ID
	}
	var grants []billing.Grant
	if err := t.SelectContext(ctx, &grants, liveGrantsSQL, textArray(ids)); err != nil {
		return nil, nil, mapErr("recent accounts' grants", err)
	}
	return accs, grants, nil
}

// LedgerAccountsAfter reads, in one snapshot and without locks, up to limit accounts with ids
// after afterID (id order), their live grants and their enabled alert rules: a page of the
// ledger cache's background warm-up, checked by version on every write like any cached
// entry. Grants and rules are read by id range, one index range scan each.
func (s *Store) LedgerAccountsAfter(ctx context.Context, afterID string, limit int) ([]billing.Account, []billing.Grant, []billing.AlertRule, error) {
	t, err := s.db.BeginTxx(ctx, &sqlTxReadOnlySnapshot)
	if err != nil {
		return nil, nil, nil, mapErr("accounts page", err)
	}
	defer t.Rollback() //nolint:errcheck // read only
	var accs []billing.Account
	if err := t.SelectContext(ctx, &accs, `SELECT `+accountCols+` FROM accounts WHERE id > $1 ORDER BY id LIMIT $2`,
		afterID, limit); err != nil || len(accs) == 0 {
		return nil, nil, nil, mapErr("accounts page", err)
	}
	last := accs[len(accs)-1].ID
	var grants []billing.Grant
	if err := t.SelectContext(ctx, &grants, `SELECT `+grantCols+` FROM grants
		WHERE account_id > $1 AND account_id <= $2 AND remaining > 0
		ORDER BY account_id, priority, expires_at NULLS LAST, created_at, id`, afterID, last); err != nil {
		return nil, nil, nil, mapErr("accounts page grants", err)
	}
	var rules []billing.AlertRule
	if err := t.SelectContext(ctx, &rules, `SELECT id, account_id, kind, threshold, true AS enabled, firing FROM alert_rules
		WHERE account_id > $1 AND account_id <= $2 AND enabled AND kind = ANY($3) ORDER BY account_id, id`,
		afterID, last, pq.Array(billing.CachedAlertKinds)); err != nil {
		return nil, nil, nil, mapErr("accounts page rules", err)
	}
	return accs, grants, rules, nil
}

// ledgerAccountsSQL reads accounts with, in the same row, what the ledger cache keeps of their
// live grants (a JSON array, billing's cachedGrant) and of their enabled alert rules of the
// kinds the debit path evaluates (the row's own copy, debit_rules, rulecopy.go: the read
// visits no rule page): one statement, so one round trip and one snapshot. Its plan is
// generic (generic.go), so OFFSET 0 keeps the account a probe by id whatever the table's size
// when it was planned (flattened, a small table got a hash join over all of it). Accounts
// come in the order of ids; grants in the order the ledger draws them (liveGrantsSQL's).
//
// It also visits, and counts for nothing, the two index pages the account's first debit will
// write to or through: its grants' entries in grants_pkey (the write updates a grant by id,
// the read above finds them by account) and its newest entry in ledger_account_idx (where the
// debit's ledger entry goes). Over a large customer base those pages are not in PostgreSQL's
// buffers; read here, they are fetched beside the single writer instead of inside its
// transaction: alternating runs over 1,000,000 accounts, 3,088-3,598 debits/s with it against
// 2,517-3,437 without, and 3.7-4.0 ms a write transaction against 3.8-5.2.
var ledgerAccountsSQL = `SELECT a.*,
	COALESCE((SELECT json_agg(json_build_object('i', g.id, 's', g.source, 'a', g.amount, 'r', g.remaining, 'p', g.priority,
			'e', micros(g.effective_at), 'x', micros(g.expires_at), 'd', micros(g.expired_at), 'c', micros(g.created_at))
		ORDER BY g.priority, g.expires_at NULLS LAST, g.created_at, g.id)
		FROM grants g WHERE g.account_id = a.id AND g.remaining > 0), '[]') AS cache_grants,
	(SELECT count(*) FROM grants g WHERE g.account_id = a.id AND g.remaining > 0
		AND EXISTS (SELECT 1 FROM grants p WHERE p.id = g.id)) +
	(SELECT count(*) FROM (SELECT 1 FROM ledger_entries e WHERE e.account_id = a.id ORDER BY e.id DESC LIMIT 1) e) AS prefetched
	FROM unnest($1::text[]) WITH ORDINALITY AS k(id, ord),
		LATERAL (SELECT ` + accountCols + `, debit_rules AS cache_rules FROM accounts WHERE id = k.id OFFSET 0) a
	ORDER BY k.ord`

type ledgerAccountRow struct {
	billing.Account
	Grants []byte `db:"cache_grants"`
	Rules  string `db:"cache_rules"` // the account's copy of its rules (rulecopy.go)
	// Prefetched is read for its side effect: the index pages the account's next debit writes
	// to (grants_pkey, ledger_account_idx) are then in PostgreSQL's buffers (ledgerAccountsSQL).
	Prefetched int `db:"prefetched"`
}

// cacheGrantJSON's times are microseconds since the epoch (micros, migration 0028): parsing
// ISO times took a third of the read's time in Go.
type cacheGrantJSON struct {
	ID          string `json:"i"`
	Source      string `json:"s"`
	Amount      int64  `json:"a"`
	Remaining   int64  `json:"r"`
	Priority    int    `json:"p"`
	EffectiveAt int64  `json:"e"`
	ExpiresAt   *int64 `json:"x"`
	ExpiredAt   *int64 `json:"d"`
	CreatedAt   int64  `json:"c"`
}

// LedgerAccounts reads accounts with their live grants and enabled alert rules, in one
// statement and without locks: for decisions that are version-checked when written. Every
// change to an account's grants or rules updates its row, so anything that commits after
// this read leaves the account past the version read here, and the write is refused. It runs
// on the generic-plan session (generic.go): planned once, not on every read.
func (s *Store) LedgerAccounts(ctx context.Context, ids []string) ([]billing.Account, []billing.Grant, []billing.AlertRule, error) {
	rows := make([]ledgerAccountRow, 0, len(ids)) // sqlx appends: no regrowing a slice of large rows
	if err := s.selectGeneric(ctx, &rows, ledgerAccountsSQL, textArray(ids)); err != nil || len(rows) == 0 {
		return nil, nil, nil, mapErr("read accounts", err)
	}
	accs := make([]billing.Account, len(rows))
	var grants []billing.Grant
	var rules []billing.AlertRule
	var gs []cacheGrantJSON
	for i := range rows {
		r := &rows[i]
		accs[i] = r.Account
		gs = gs[:0]
		if err := json.Unmarshal(r.Grants, &gs); err != nil {
			return nil, nil, nil, fmt.Errorf("read accounts: grants of %s: %w", r.ID, err)
		}
		rs, err := parseRuleCopy(r.ID, r.Rules)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("read accounts: %w", err)
		}
		rules = append(rules, rs...)
		for _, g := range gs {
			grants = append(grants, billing.Grant{ID: g.ID, AccountID: r.ID, Source: g.Source, Amount: billing.Credits(g.Amount),
				Remaining: billing.Credits(g.Remaining), Priority: g.Priority, EffectiveAt: fromMicros(g.EffectiveAt),
				ExpiresAt: fromMicrosPtr(g.ExpiresAt), ExpiredAt: fromMicrosPtr(g.ExpiredAt), CreatedAt: fromMicros(g.CreatedAt)})
		}
	}
	return accs, grants, rules, nil
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func fromMicrosPtr(us *int64) *time.Time {
	if us == nil {
		return nil
	}
	t := fromMicros(*us)
	return &t
}

// selectHot runs a hot query outside any transaction, prepared once it can be.
func (s *Store) selectHot(ctx context.Context, dest any, query string, args ...any) error {
	if st := s.prepared(query); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return s.db.SelectContext(ctx, dest, query, args...)
}
