package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"creditline/migrations"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Migration is one embedded schema file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the embedded migrations in order.
func Migrations() ([]Migration, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("store: list migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, n := range names {
		num, _, ok := strings.Cut(n, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %q must be named NNNN_name.sql", n)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("store: migrations %q and %q share version %d", prev, n, v)
		}
		seen[v] = n
		b, err := migrations.FS.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s: %w", n, err)
		}
		out = append(out, Migration{Version: v, Name: n, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// migrateLockID is the advisory lock key that serialises concurrent migrators.
const migrateLockID = 727_001

// Migrate applies pending migrations, each in its own transaction, under an advisory lock.
// It returns the names of the migrations it applied. Safe to run twice.
func Migrate(ctx context.Context, db *sqlx.DB) ([]string, error) {
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	conn, err := db.Connx(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrateLockID); err != nil {
		return nil, fmt.Errorf("store: migrate lock: %w", err)
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, migrateLockID) //nolint:errcheck
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	applied := map[int]bool{}
	var versions []int
	if err := conn.SelectContext(ctx, &versions, `SELECT version FROM schema_migrations`); err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	for _, v := range versions {
		applied[v] = true
	}
	var done []string
	for _, m := range all {
		if applied[m.Version] {
			continue
		}
		tx, err := conn.BeginTxx(ctx, nil)
		if err != nil {
			return done, fmt.Errorf("store: migrate %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return done, fmt.Errorf("store: migrate %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			tx.Rollback()
			return done, fmt.Errorf("store: migrate %s: %w", m.Name, err)
		}
		if err := tx.Commit(); err != nil {
			return done, fmt.Errorf("store: migrate %s: %w", m.Name, err)
		}
		done = append(done, m.Name)
	}
	return done, nil
}

// PendingMigrations counts embedded migrations not yet applied (for /readyz).
func PendingMigrations(ctx context.Context, db *sqlx.DB) (int, error) {
	all, err := Migrations()
	if err != nil {
		return 0, err
	}
	var n int
	if err := db.GetContext(ctx, &n, `SELECT count(*) FROM schema_migrations`); err != nil {
		return len(all), fmt.Errorf("store: pending migrations: %w", err)
	}
	return len(all) - n, nil
}

// ValidateConstraints validates every CHECK constraint a migration added NOT VALID, one
// statement each and outside any migration transaction, so existing rows are scanned under a
// SHARE UPDATE EXCLUSIVE lock (reads and writes go on). It returns the constraints that
// existing rows break (they stay NOT VALID; new rows are checked all the same); the error is
// for anything else.
func ValidateConstraints(ctx context.Context, db *sqlx.DB) ([]string, error) {
	var cons []struct {
		Table string `db:"tbl"`
		Name  string `db:"conname"`
	}
	if err := db.SelectContext(ctx, &cons, `SELECT conrelid::regclass::text AS tbl, conname FROM pg_constraint
		WHERE contype = 'c' AND NOT convalidated AND connamespace = current_schema()::regnamespace ORDER BY 1, 2`); err != nil {
		return nil, fmt.Errorf("store: list unvalidated constraints: %w", err)
	}
	var broken []string
	for _, c := range cons {
		_, err := db.ExecContext(ctx, `ALTER TABLE `+quoteIdent(c.Table)+` VALIDATE CONSTRAINT `+quoteIdent(c.Name))
		var pe *pq.Error
		switch {
		case err == nil:
		case errors.As(err, &pe) && (pe.Code == "23514" || pe.Code == "22003"): // check violation, out of range
			broken = append(broken, c.Table+"."+c.Name)
		default:
			return broken, fmt.Errorf("store: validate %s.%s: %w", c.Table, c.Name, err)
		}
	}
	return broken, nil
}

// quoteIdent quotes a name read from the catalog for use in DDL.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
