package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
)

// The baseline: what PostgreSQL alone does with one transaction per debit, a conditional
// balance update plus a ledger insert, as most billing systems do it.
const baselineSchema = `
CREATE TABLE IF NOT EXISTS pgb_accounts (id int PRIMARY KEY, balance bigint NOT NULL);
CREATE TABLE IF NOT EXISTS pgb_ledger (id bigserial PRIMARY KEY, account_id int NOT NULL, amount bigint NOT NULL, balance_after bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
TRUNCATE pgb_accounts, pgb_ledger;
INSERT INTO pgb_accounts SELECT g, 1000000000000 FROM generate_series(1, %d) g;`

const baselineScript = `\set aid %s
BEGIN;
UPDATE pgb_accounts SET balance = balance - 1000 WHERE id = :aid AND balance >= 1000 RETURNING balance \gset
INSERT INTO pgb_ledger (account_id, amount, balance_after) VALUES (:aid, -1000, :balance);
END;
`

var tpsRE = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
var latRE = regexp.MustCompile(`latency average = ([0-9.]+) ms`)

func pgbenchBaseline(ctx context.Context, dbURL string, accounts int, hot bool, d time.Duration) (result, error) {
	name := "pgbench baseline spread"
	aid := fmt.Sprintf("random(1, %d)", accounts)
	if hot {
		name, aid = "pgbench baseline hot account", "1"
	}
	db, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		return result{}, err
	}
	_, err = db.ExecContext(ctx, fmt.Sprintf(baselineSchema, accounts))
	db.Close()
	if err != nil {
		return result{}, fmt.Errorf("baseline schema: %w", err)
	}
	script := filepath.Join(os.TempDir(), "creditline-bench.sql")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(baselineScript, aid)), 0o644); err != nil {
		return result{}, err
	}
	pgbench, err := exec.LookPath("pgbench")
	if err != nil {
		return result{}, fmt.Errorf("pgbench not found: install postgresql-client (Debian: apt-get install -y postgresql-client)")
	}
	out, err := exec.CommandContext(ctx, pgbench, "-n", "-c", "16", "-j", "2", "-T", strconv.Itoa(int(d.Seconds())), "-f", script, dbURL).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	m := tpsRE.FindSubmatch(out)
	if m == nil {
		return result{}, fmt.Errorf("pgbench output not understood:\n%s", out)
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	r := result{name: name, clients: 16, perSec: tps, baseline: true}
	if l := latRE.FindSubmatch(out); l != nil {
		ms, _ := strconv.ParseFloat(string(l[1]), 64)
		r.avgMs = ms
	}
	return r, nil
}
