// Package store implements billing.Store on PostgreSQL with sqlx and lib/pq. SQL only:
// it decides no rule.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"creditline/billing"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Store is the PostgreSQL implementation of billing.Store.
type Store struct {
	db *sqlx.DB
}

var _ billing.Store = (*Store)(nil)
var _ billing.Tx = (*tx)(nil)

// Open connects to PostgreSQL and checks the connection.
func Open(ctx context.Context, url string) (*sqlx.DB, error) {
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	db.SetMaxOpenConns(40)
	db.SetMaxIdleConns(40)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	return db, nil
}

// New wraps an open pool.
func New(db *sqlx.DB) *Store { return &Store{db: db} }

// DB exposes the pool for health checks and tools.
func (s *Store) DB() *sqlx.DB { return s.db }

type tx struct {
	tx *sqlx.Tx
}

// InTx runs fn in a transaction; it commits when fn returns nil and rolls back otherwise.
func (s *Store) InTx(ctx context.Context, fn func(billing.Tx) error) error {
	t, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(&tx{tx: t}); err != nil {
		_ = t.Rollback()
		return err
	}
	if err := t.Commit(); err != nil {
		return mapErr("commit", err)
	}
	return nil
}

// mapErr is the one place where driver errors become billing error codes.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return &billing.Error{Code: billing.ENotFound, Message: "Not found."}
	}
	var pqe *pq.Error
	if errors.As(err, &pqe) {
		switch pqe.Code {
		case "23505": // unique_violation
			return &billing.Error{Code: billing.EConflict, Message: "Already exists.", Details: map[string]any{"constraint": pqe.Constraint}}
		case "40P01": // deadlock_detected
			return fmt.Errorf("store: %s: deadlock: %w", op, err)
		}
	}
	return fmt.Errorf("store: %s: %w", op, err)
}
