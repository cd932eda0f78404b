// Package store implements billing.Store on PostgreSQL with sqlx and lib/pq. SQL only:
// it decides no rule.
//
// Method names never end in Tx: the receiver says where a method runs. A method on *tx
// (billing.Tx) runs in the caller's transaction; a method on *Store runs on its own, and may
// open a read-only snapshot of its own for several reads without saying so. The same read may
// exist on both under one name (CustomerOf). A read on *tx that locks what it reads ends in
// ForUpdate, or starts with Lock when it locks several rows. InTx alone opens the caller's
// transaction.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"

	"creditline/billing"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Store is the PostgreSQL implementation of billing.Store.
type Store struct {
	db    *sqlx.DB
	stmts sync.Map // query text -> *sqlx.Stmt, the hot path's prepared statements
	// generic is the connection of the cold read's generic plan (generic.go).
	generic genericSession
}

var _ billing.Store = (*Store)(nil)
var _ billing.Tx = (*tx)(nil)

// Open connects to PostgreSQL and checks the connection. Every connection of the pool starts
// with the session settings below.
func Open(ctx context.Context, url string) (*sqlx.DB, error) {
	c, err := pq.NewConnector(url)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	db := sqlx.NewDb(sql.OpenDB(sessionConnector{c}), "postgres")
	db.SetMaxOpenConns(40)
	db.SetMaxIdleConns(40)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	return db, nil
}

// sessionSetup runs on every new connection. The hot tables are small next to the memory that
// caches them, so a random page costs about what a sequential one does: with the default (4),
// the planner joins a handful of ids to a table of a thousand accounts by reading all of it.
const sessionSetup = `SET random_page_cost = 1.1`

type sessionConnector struct{ driver.Connector }

func (c sessionConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("store: driver cannot run session setup")
	}
	if _, err := ex.ExecContext(ctx, sessionSetup, nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: session setup: %w", err)
	}
	return conn, nil
}

// New wraps an open pool.
func New(db *sqlx.DB) *Store { return &Store{db: db} }

// prepared returns the prepared statement of a hot-path query, or nil until it is ready.
// Preparing takes a pool connection, so it never happens on the caller's goroutine (which
// may already hold one inside a transaction: with a full pool that would deadlock); the
// first callers run the query unprepared.
func (s *Store) prepared(query string) *sqlx.Stmt {
	v, loaded := s.stmts.LoadOrStore(query, (*sqlx.Stmt)(nil))
	if st, _ := v.(*sqlx.Stmt); st != nil {
		return st
	}
	if !loaded {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if st, err := s.db.PreparexContext(ctx, query); err == nil {
				s.stmts.Store(query, st)
			} else {
				s.stmts.Delete(query) // try again later
			}
		}()
	}
	return nil
}

type tx struct {
	tx *sqlx.Tx
	s  *Store
}

// hot runs a hot-path query in this transaction, prepared once it can be.
type hotQuery struct {
	t     *tx
	query string
}

func (t *tx) hot(query string) hotQuery { return hotQuery{t, query} }

func (h hotQuery) Select(ctx context.Context, dest any, args ...any) error {
	if st := h.t.s.prepared(h.query); st != nil {
		return h.t.tx.StmtxContext(ctx, st).SelectContext(ctx, dest, args...)
	}
	return h.t.tx.SelectContext(ctx, dest, h.query, args...)
}

func (h hotQuery) Exec(ctx context.Context, args ...any) error {
	var err error
	if st := h.t.s.prepared(h.query); st != nil {
		_, err = h.t.tx.StmtxContext(ctx, st).ExecContext(ctx, args...)
	} else {
		_, err = h.t.tx.ExecContext(ctx, h.query, args...)
	}
	return err
}

// InTx runs fn in a transaction; it commits when fn returns nil and rolls back otherwise.
func (s *Store) InTx(ctx context.Context, fn func(billing.Tx) error) error {
	return s.inTx(ctx, func(t *tx) error { return fn(t) })
}

func (s *Store) inTx(ctx context.Context, fn func(*tx) error) error {
	t, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(&tx{tx: t, s: s}); err != nil {
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
		case "40001": // serialization_failure: ledger_expect found an account at another version
			return fmt.Errorf("store: %s: %w", op, billing.ErrStale)
		case "40P01": // deadlock_detected
			return fmt.Errorf("store: %s: deadlock: %w", op, err)
		}
	}
	return fmt.Errorf("store: %s: %w", op, err)
}
