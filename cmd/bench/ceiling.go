package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
)

// The ceiling: PostgreSQL alone writing exactly the rows a Creditline debit writes (a debit,
// a usage event with its indexes, its daily rollup, a ledger entry, the grant and the account
// with its version trigger), batched as the server batches them, in one autocommit statement
// per batch, with no HTTP, no Go and no parameter parsing. It bounds what any server can do
// with this schema on this machine (up to the drift between runs): the API figures read best
// as a fraction of it.
//
// The tables are copies (LIKE … INCLUDING ALL: same columns, defaults, checks and indexes) so
// the server's own data and `portal verify` are untouched.
const ceilingSchema = `
DROP TABLE IF EXISTS pgc_accounts, pgc_grants, pgc_debits, pgc_usage, pgc_daily, pgc_ledger;
DROP SEQUENCE IF EXISTS pgc_ids;
CREATE SEQUENCE pgc_ids;
CREATE TABLE pgc_accounts (LIKE accounts INCLUDING ALL);
CREATE TRIGGER pgc_accounts_version BEFORE UPDATE ON pgc_accounts FOR EACH ROW EXECUTE FUNCTION accounts_bump_version();
CREATE TABLE pgc_grants (LIKE grants INCLUDING ALL);
CREATE TABLE pgc_debits (LIKE debits INCLUDING ALL);
CREATE TABLE pgc_usage (LIKE usage_events INCLUDING ALL);
CREATE TABLE pgc_daily (LIKE usage_daily INCLUDING ALL);
CREATE TABLE pgc_ledger (LIKE ledger_entries INCLUDING ALL);
-- n accounts and one grant each, cloned from the fixture's first account and grant.
INSERT INTO pgc_accounts SELECT (jsonb_populate_record(NULL::pgc_accounts, to_jsonb(t) || jsonb_build_object(
	'id', 'pa' || lpad(g::text, 8, '0'), 'external_id', NULL, 'balance', 1000000000000000))).*
	FROM (SELECT * FROM accounts ORDER BY id LIMIT 1) t, generate_series(1, %[1]d) g;
INSERT INTO pgc_grants SELECT (jsonb_populate_record(NULL::pgc_grants, to_jsonb(t) || jsonb_build_object(
	'id', 'pg' || lpad(g::text, 8, '0'), 'account_id', 'pa' || lpad(g::text, 8, '0'), 'idempotency_key', NULL,
	'amount', 1000000000000000, 'remaining', 1000000000000000))).*
	FROM (SELECT * FROM grants ORDER BY id LIMIT 1) t, generate_series(1, %[1]d) g;`

// One batch of :b debits of 0.8 credit on random accounts (:n of them) as one statement.
// Accounts are locked in id order, as the server does.
const ceilingScript = `\set b %d
\set n %d
WITH x AS MATERIALIZED (SELECT lpad(nextval('pgc_ids')::text, 20, '0') AS id,
		'pa' || lpad((1 + floor(random() * :n))::int::text, 8, '0') AS acc FROM generate_series(1, :b)),
s AS (SELECT acc, count(*) AS c FROM x GROUP BY acc),
l AS MATERIALIZED (SELECT s.* FROM (SELECT * FROM s ORDER BY acc) s,
	LATERAL (SELECT 1 FROM pgc_accounts WHERE id = s.acc FOR NO KEY UPDATE OFFSET 0) k),
a AS (UPDATE pgc_accounts a SET balance = a.balance - 800 * l.c, period_spent = a.period_spent + 800 * l.c
	FROM l WHERE a.id = l.acc RETURNING a.id),
g AS (UPDATE pgc_grants g SET remaining = g.remaining - 800 * s.c FROM s WHERE g.id = 'pg' || substr(s.acc, 3)),
d AS (INSERT INTO pgc_debits (id, account_id, idempotency_key, request_hash, amount, requested, overdraft, hold_id,
		balance_after, available_after, actor, reason, created_at)
	SELECT 'deb_' || id, acc, 'bench-' || id, '', 800, 800, 0, NULL, 0, 0, 'key_bench', '', now() FROM x),
u AS (INSERT INTO pgc_usage (id, account_id, debit_id, action, model, quantities, attributes, credits,
		vendor_cost_micro_usd, price_version, breakdown, idempotency_key, api_key_id, client_ip, metadata, prompt_hash,
		batch, hold_id, warnings, occurred_at, created_at)
	SELECT 'use_' || id, acc, 'deb_' || id, 'chat.completion', 'small-open', '{}', '{"model":"small-open"}', 800, 200, 1,
		'{"components":[{"name":"call","quantity":1,"unit_rate":"1 per call","credits":"1"}],"subtotal":"1","multipliers":[{"name":"plan","label":"bench","factor":"0.8","text":"plan bench ×0.8"}],"total":"0.8"}',
		'bench-' || id, 'key_bench', '127.0.0.1', NULL, '', false, NULL, '{}', now(), now() FROM x
	RETURNING account_id, occurred_at, action, model, credits, vendor_cost_micro_usd),
r AS (INSERT INTO pgc_daily AS r (account_id, day, action, model, events, credits, vendor_cost_micro_usd)
	SELECT account_id, (occurred_at AT TIME ZONE 'UTC')::date, action, model, count(*), sum(credits), sum(vendor_cost_micro_usd)
	FROM u GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
	ON CONFLICT (account_id, day, action, model) DO UPDATE SET events = r.events + excluded.events,
		credits = r.credits + excluded.credits, vendor_cost_micro_usd = r.vendor_cost_micro_usd + excluded.vendor_cost_micro_usd),
e AS (INSERT INTO pgc_ledger (account_id, grant_id, debit_id, kind, amount, balance_after, actor, reason, created_at)
	SELECT acc, 'pg' || substr(acc, 3), 'deb_' || id, 'debit', -800, 0, 'key_bench', '', now() FROM x)
SELECT count(*) FROM a;
`

// pgbenchCeiling runs the ceiling with `clients` connections, each writing batches of `batch`
// debits over `accounts` accounts (1: one hot account), and reports debits per second.
func pgbenchCeiling(ctx context.Context, dbURL, name string, accounts, batch, clients int, d time.Duration) (result, error) {
	db, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		return result{}, err
	}
	_, err = db.ExecContext(ctx, fmt.Sprintf(ceilingSchema, accounts))
	if err == nil {
		_, err = db.ExecContext(ctx, "VACUUM ANALYZE pgc_accounts, pgc_grants")
	}
	db.Close()
	if err != nil {
		return result{}, fmt.Errorf("ceiling schema: %w", err)
	}
	script := filepath.Join(os.TempDir(), "creditline-bench-ceiling.sql")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(ceilingScript, batch, accounts)), 0o644); err != nil {
		return result{}, err
	}
	pgbench, err := exec.LookPath("pgbench")
	if err != nil {
		return result{}, fmt.Errorf("pgbench not found: install postgresql-client (Debian: apt-get install -y postgresql-client)")
	}
	out, err := exec.CommandContext(ctx, pgbench, "-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(clients),
		"-T", strconv.Itoa(int(d.Seconds())), "-f", script, dbURL).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("pgbench ceiling: %v\n%s", err, out)
	}
	m := tpsRE.FindSubmatch(out)
	if m == nil {
		return result{}, fmt.Errorf("pgbench output not understood:\n%s", out)
	}
	if db, err := sqlx.Open("postgres", dbURL); err == nil { // the server runs next: leave it the machine's cache
		db.ExecContext(ctx, "DROP TABLE pgc_accounts, pgc_grants, pgc_debits, pgc_usage, pgc_daily, pgc_ledger") //nolint:errcheck
		db.Close()
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	r := result{name: name, clients: clients, perSec: tps * float64(batch), baseline: true,
		batcher: fmt.Sprintf("%d per tx, one statement, no server", batch)}
	if l := latRE.FindSubmatch(out); l != nil {
		ms, _ := strconv.ParseFloat(string(l[1]), 64)
		r.avgMs = ms
	}
	return r, nil
}
