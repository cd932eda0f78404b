package store

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Helpers for benchmarks (cmd/pagebench), never for the product.

// CreateDatabase creates database name on the server serverURL points at (any database of it)
// and returns the new database's URL, and drop, which removes it with its sessions.
func CreateDatabase(ctx context.Context, serverURL, name string) (dbURL string, drop func() error, err error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("store: server url: %w", err)
	}
	admin, err := sqlx.Open("postgres", serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("store: open server: %w", err)
	}
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name)); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("store: create database: %w", err)
	}
	u.Path = "/" + name
	drop = func() error {
		defer admin.Close()
		_, err := admin.Exec(`DROP DATABASE IF EXISTS ` + pq.QuoteIdentifier(name) + ` WITH (FORCE)`)
		return mapErr("drop database", err)
	}
	return u.String(), drop, nil
}

// UsageEventAt returns the time and id of the account's event at offset in the usage
// history's order (newest first), or in time order when oldestFirst. Errors: not_found.
func (s *Store) UsageEventAt(ctx context.Context, accountID string, offset int, oldestFirst bool) (time.Time, string, error) {
	var row struct {
		At time.Time `db:"occurred_at"`
		ID string    `db:"id"`
	}
	order := `occurred_at DESC, id DESC`
	if oldestFirst {
		order = `occurred_at, id`
	}
	err := s.db.GetContext(ctx, &row, `SELECT occurred_at, id FROM usage_events WHERE account_id = $1
		ORDER BY `+order+` OFFSET $2 LIMIT 1`, accountID, offset)
	return row.At, row.ID, mapErr("usage event at", err)
}

// BulkAccountIDs returns the ids of the first n accounts SeedBulkAccounts made with plan and
// prefix, in the order it made them (cmd/bench -reuse).
func (s *Store) BulkAccountIDs(ctx context.Context, plan, prefix string, n int) ([]string, error) {
	var ids []string
	err := s.db.SelectContext(ctx, &ids, `SELECT id FROM accounts WHERE plan_key = $1 AND left(name, length($2) + 1) = $2 || ' '
		ORDER BY id LIMIT $3`, plan, prefix, n)
	return ids, mapErr("bulk account ids", err)
}
