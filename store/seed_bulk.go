package store

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"creditline/billing"
	"github.com/lib/pq"
)

// Bulk usage seeding, for load tests and the page bench, never for the product: a usage
// history for one account written set-based (one statement per chunk) instead of a million
// service calls. Each chunk is one transaction, under the account's lock, that keeps every
// ledger invariant verify checks: a promo grant of exactly the chunk's credits, one debit per
// event drawn from that grant with its ledger entry and running balance, the usage events and
// their daily rollups. The account's balance ends where it started; its spend this period
// grows by what was used.

// BulkPricer prices an action for an account without charging it; *billing.Service is one,
// and its live price book must be loaded.
type BulkPricer interface {
	Now() time.Time
	Estimate(ctx context.Context, accountID, action string, qs map[string]billing.Quantity, attrs map[string]string, batch bool) (billing.EstimateResult, error)
}

// BulkUsageResult sums up a bulk run.
type BulkUsageResult struct {
	Events  int
	Credits billing.Credits
}

// BulkChunk is how many events one bulk transaction writes by default.
const BulkChunk = 100_000

// bulkTemplate is one event shape, priced once for the account's plan.
type bulkTemplate struct {
	action string
	attrs  map[string]string
	qs     map[string]billing.Quantity
	quote  billing.Quote
}

// bulkChunk is one chunk of bulk events, written in one statement.
type bulkChunk struct {
	accountID string
	run       string // unique per seeding run: ids and idempotency keys derive from it
	offset    int    // events already written by this run
	count     int
	grantID   string
	now       time.Time
	// periodStart is the spend period containing now.
	periodStart time.Time
	// window spreads occurred_at uniformly over (now-window, now].
	window    time.Duration
	templates []bulkTemplate // picked by a hash of the event's number
}

// Each chunk's grant is a promo grant, made by the seed.
const (
	bulkActor  = "seed"
	bulkReason = "bulk usage seed (load test)"
)

// SeedBulkUsage gives an account n usage events over the last 30 days, priced by p for the
// account's plan, chunk events per transaction (0: BulkChunk); progress (may be nil) hears
// the running total. Afterwards it vacuums the tables it filled. Errors: not_found,
// invalid_request.
func (s *Store) SeedBulkUsage(ctx context.Context, p BulkPricer, accountID string, n, chunk int, progress func(done int)) (BulkUsageResult, error) {
	if chunk <= 0 {
		chunk = BulkChunk
	}
	if n <= 0 {
		return BulkUsageResult{}, billing.FieldError("bulk", "Give the number of events to write, e.g. 1000000.")
	}
	acc, err := s.AccountByID(ctx, accountID)
	if err != nil {
		return BulkUsageResult{}, err
	}
	tpls, err := bulkTemplates(ctx, p, acc)
	if err != nil {
		return BulkUsageResult{}, err
	}
	now := p.Now()
	period, _ := billing.SpendPeriod(billing.Account{}, now) // seeded accounts have no subscription: the calendar month
	run := strings.TrimPrefix(billing.NewID("run"), "run_")[:12]
	var res BulkUsageResult
	for off := 0; off < n; off += chunk {
		in := bulkChunk{accountID: acc.ID, run: run, offset: off, count: min(chunk, n-off), grantID: billing.NewID("grt"),
			now: now, periodStart: period, window: 30*24*time.Hour - time.Minute, templates: tpls}
		err := s.inTx(ctx, func(t *tx) error {
			if _, _, err := t.LockAccounts(ctx, []string{acc.ID}); err != nil {
				return err
			}
			c, err := t.bulkUsage(ctx, in)
			res.Credits += c
			return err
		})
		if err != nil {
			return res, err
		}
		res.Events += in.count
		if progress != nil {
			progress(res.Events)
		}
	}
	return res, s.vacuumUsage(ctx)
}

// bulkTemplates prices a realistic mix (weights by repetition) for the account's plan,
// leaving out what the plan may not use or the live price book does not price.
func bulkTemplates(ctx context.Context, p BulkPricer, acc billing.Account) ([]bulkTemplate, error) {
	type shape struct {
		weight int
		action string
		attrs  map[string]string
		qs     map[string]billing.Quantity
	}
	m := func(v string) map[string]string { return map[string]string{"model": v} }
	c := billing.Count
	shapes := []shape{
		{6, "chat.completion", m("small-open"), map[string]billing.Quantity{"input_tokens": c(500), "output_tokens": c(200)}},
		{3, "chat.completion", m("gpt-4o"), map[string]billing.Quantity{"input_tokens": c(1500), "output_tokens": c(500)}},
		{1, "chat.completion", m("gpt-4o"), map[string]billing.Quantity{"input_tokens": c(3000), "output_tokens": c(1000)}},
		{4, "embedding.create", map[string]string{}, map[string]billing.Quantity{"input_tokens": c(8000)}},
		{1, "image.generate", m("sdxl"), map[string]billing.Quantity{"images": c(1)}},
		{1, "image.generate", m("dall-e-3"), map[string]billing.Quantity{"images": c(1)}},
		{1, "audio.transcribe", map[string]string{}, map[string]billing.Quantity{"seconds": c(120)}},
		{1, "video.generate", map[string]string{}, map[string]billing.Quantity{"seconds": c(8)}},
		{1, "file.process", map[string]string{}, map[string]billing.Quantity{"megabytes": c(12)}},
		{1, "text.generate", map[string]string{}, map[string]billing.Quantity{"words": c(600)}},
	}
	var out []bulkTemplate
	for _, sh := range shapes {
		est, err := p.Estimate(ctx, acc.ID, sh.action, sh.qs, sh.attrs, false)
		switch code := billing.ErrorCode(err); {
		case code == billing.EUnknownAction || code == billing.EInvalid:
			continue // not in this price book
		case err != nil:
			return nil, err
		case !est.Allowed && est.Reason == billing.ENotEntitled:
			continue // not on this plan
		}
		for range sh.weight {
			out = append(out, bulkTemplate{action: sh.action, attrs: sh.attrs, qs: sh.qs, quote: est.Quote})
		}
	}
	if len(out) == 0 {
		return nil, billing.Errorf(billing.EInvalid, "No action of the live price book can be priced for plan %s.", acc.PlanKey)
	}
	return out, nil
}

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

// bulkUsage writes one chunk of bulk events; the caller holds the account's lock.
func (t *tx) bulkUsage(ctx context.Context, in bulkChunk) (billing.Credits, error) {
	n := len(in.templates)
	action, model, qs, attrs, bd := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	credits, cost, ver := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, tp := range in.templates {
		q, _ := json.Marshal(tp.qs)
		a, _ := json.Marshal(tp.attrs)
		b, err := json.Marshal(tp.quote.Breakdown)
		if err != nil {
			return 0, fmt.Errorf("store: bulk breakdown: %w", err)
		}
		action[i], model[i], qs[i], attrs[i], bd[i] = tp.action, tp.attrs["model"], string(q), string(a), string(b)
		credits[i], cost[i], ver[i] = int64(tp.quote.Credits), tp.quote.VendorCostMicroUSD, int64(tp.quote.PriceVersion)
	}
	var total billing.Credits
	err := t.tx.GetContext(ctx, &total, bulkUsageSQL, in.accountID, in.run, in.offset, in.count, in.now,
		int64(in.window.Seconds()), pq.Array(action), pq.Array(model), pq.Array(qs), pq.Array(attrs), pq.Array(credits),
		pq.Array(cost), pq.Array(ver), pq.Array(bd), in.grantID, billing.DefaultPriority("promo"), bulkActor, bulkReason, in.periodStart)
	return total, mapErr("bulk usage", err)
}

// vacuumUsage vacuums and analyzes the tables a bulk write filled, so the planner has fresh
// statistics and the dashboard's index-only scans need not visit the heap (and autovacuum
// does not start on them during the next requests).
func (s *Store) vacuumUsage(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `VACUUM (ANALYZE) usage_events, usage_daily, debits, ledger_entries, grants`)
	return mapErr("vacuum", err)
}

// BulkAccounts describes a bulk load of accounts (load tests only).
type BulkAccounts struct {
	// N accounts are made, named "<Prefix> i" with external id "<Prefix>-i" (i from 0).
	N      int
	Prefix string
	Plan   string
	// Credits is each account's promo grant.
	Credits billing.Credits
	// Rules are copied to every account (ids and times are new): pass the rules a new
	// account gets, read from one made by the service, so the load matches the product.
	Rules []billing.AlertRule
	Now   time.Time
	// Workers is how many statements run at once (0: one per CPU, at most 8): on a fresh
	// database the load is CPU-bound in the server, so it scales with the cores.
	Workers int
}

// BulkAccountsChunk is how many accounts one bulk statement makes.
const BulkAccountsChunk = 25_000

// bulkAccountsSQL makes one chunk of accounts with everything CreateAccount, SetPlan and
// Grant would leave: the account at its grant's balance, the grant, its ledger entry and the
// account's alert rules (one per template row), in one statement.
const bulkAccountsSQL = `
WITH n AS MATERIALIZED (
	SELECT g, $1 || lpad(g::text, 8, '0') AS sfx FROM generate_series($2::bigint, $3::bigint - 1) AS g(g)
),
a AS (
	INSERT INTO accounts (id, name, external_id, plan_key, balance, created_at, debit_rules)
	SELECT 'acc_' || sfx, $4 || ' ' || g, $4 || '-' || g, $5, $6, $7, $13
	FROM n
),
gr AS (
	INSERT INTO grants (id, account_id, source, amount, remaining, priority, effective_at, actor, reason, created_at)
	SELECT 'grt_' || sfx, 'acc_' || sfx, 'promo', $6, $6, $8, $7, 'seed', 'bulk accounts (load test)', $7 FROM n
),
e AS (
	INSERT INTO ledger_entries (account_id, grant_id, kind, amount, balance_after, actor, reason, created_at)
	SELECT 'acc_' || sfx, 'grt_' || sfx, 'grant', $6, $6, 'seed', 'bulk accounts (load test)', $7 FROM n ORDER BY g
)
INSERT INTO alert_rules (id, account_id, kind, threshold, channels, enabled, created_at, updated_at)
SELECT 'alr_' || sfx || '_' || r.ord, 'acc_' || sfx, r.kind, r.th, string_to_array(r.ch, ','), r.en, $7, $7
FROM n, unnest($9::text[], $10::bigint[], $11::text[], $12::boolean[]) WITH ORDINALITY AS r(kind, th, ch, en, ord)
ORDER BY n.g, r.ord` // an account's rules side by side, as CreateAccount leaves them; the
// accounts carry their copy of them from the start (debit_rules, migration 0033), so the rules
// trigger finds nothing to rewrite

// SeedBulkAccounts makes in.N funded accounts set-based, BulkAccountsChunk per statement, and
// returns their ids in order; progress (may be nil) hears the running total. The rows satisfy
// every invariant verify checks. Afterwards it vacuums the tables it filled.
func (s *Store) SeedBulkAccounts(ctx context.Context, in BulkAccounts, progress func(done int)) ([]string, error) {
	if in.N <= 0 || in.N > 100_000_000 {
		return nil, billing.FieldError("accounts", "Give a number of accounts from 1 to 100000000.")
	}
	run := strings.TrimPrefix(billing.NewID("run"), "run_")[:10] + "_"
	kinds, ths, chs, ens := make([]string, len(in.Rules)), make([]int64, len(in.Rules)), make([]string, len(in.Rules)), make([]bool, len(in.Rules))
	for i, r := range in.Rules {
		kinds[i], ths[i], chs[i], ens[i] = r.Kind, r.Threshold, strings.Join(r.Channels, ","), r.Enabled
	}
	fresh := slices.Clone(in.Rules) // the statement writes them not firing
	for i := range fresh {
		fresh[i].Firing = false
	}
	copied := encodeRuleCopy(fresh)
	workers := in.Workers
	if workers <= 0 {
		workers = min(runtime.NumCPU(), 8)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		done     int
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for from := range chunks {
				to := min(from+BulkAccountsChunk, in.N)
				_, err := s.db.ExecContext(ctx, bulkAccountsSQL, run, from, to, in.Prefix, in.Plan, int64(in.Credits), in.Now,
					billing.DefaultPriority("promo"), pq.Array(kinds), pq.Array(ths), pq.Array(chs), pq.Array(ens),
					copied)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = mapErr("bulk accounts", err)
					cancel()
				}
				done += to - from
				if err == nil && progress != nil {
					progress(done)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for from := 0; from < in.N; from += BulkAccountsChunk {
		select {
		case chunks <- from:
		case <-ctx.Done():
			break feed
		}
	}
	close(chunks)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ids := make([]string, in.N)
	for i := range ids {
		ids[i] = fmt.Sprintf("acc_%s%08d", run, i)
	}
	_, err := s.db.ExecContext(ctx, `VACUUM (ANALYZE) accounts, grants, ledger_entries, alert_rules`)
	return ids, mapErr("vacuum", err)
}

// bulkMembersSQL gives each account of $1 one member: a new user and a membership of role
// member, with monthly limit $4 (NULL: none); ids are numbered from $3 within run $2.
const bulkMembersSQL = `
WITH n AS MATERIALIZED (
	SELECT a, $2 || '_' || ($3::bigint + ord) AS sfx FROM unnest($1::text[]) WITH ORDINALITY AS x(a, ord)
),
u AS (
	INSERT INTO users (id, email, name, password_hash, created_at)
	SELECT 'usr_' || sfx, 'member-' || sfx || '@bench.invalid', 'Bench member ' || sfx, '!', now() FROM n
)
INSERT INTO memberships (id, account_id, user_id, role, monthly_limit, created_at)
SELECT 'mem_' || sfx, a, 'usr_' || sfx, 'member', $4, now() FROM n`

// SeedBulkMembers gives each of accountIDs one member (a new user who cannot sign in, role
// member), for load tests, and returns the member ids in the accounts' order. A limit (> 0)
// is each member's monthly limit, and marks the accounts as having limited members.
func (s *Store) SeedBulkMembers(ctx context.Context, accountIDs []string, limit billing.Credits) ([]string, error) {
	if len(accountIDs) > 100_000_000 || limit < 0 {
		return nil, billing.FieldError("accounts", "Give from 1 to 100000000 accounts and a limit of 0 or more.")
	}
	run := strings.TrimPrefix(billing.NewID("run"), "run_")[:10]
	var lim *int64
	if limit > 0 {
		l := int64(limit)
		lim = &l
	}
	for from := 0; from < len(accountIDs); from += BulkAccountsChunk {
		part := accountIDs[from:min(from+BulkAccountsChunk, len(accountIDs))]
		if _, err := s.db.ExecContext(ctx, bulkMembersSQL, textArray(part), run, from, lim); err != nil {
			return nil, mapErr("bulk members", err)
		}
		if lim != nil {
			if _, err := s.db.ExecContext(ctx, `UPDATE accounts SET member_limits = true WHERE id = ANY($1)`, textArray(part)); err != nil {
				return nil, mapErr("bulk member limits", err)
			}
		}
	}
	ids := make([]string, len(accountIDs))
	for i := range ids {
		ids[i] = fmt.Sprintf("mem_%s_%d", run, i+1)
	}
	return ids, nil
}
