package store

import (
	"context"
	"database/sql/driver"
	"reflect"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// genericSession is one connection of the pool set aside for hot reads whose custom plans
// cost more to make than to run: the cold read of the ledger cache (ledgerAccountsSQL).
//
// A prepared statement gets a plan made for its arguments (a custom plan) on its first five
// runs; afterwards PostgreSQL plans it once for any arguments only if that generic plan is
// estimated no dearer than the custom ones were. For a statement driven by an array of ids,
// the generic plan assumes ten ids while the custom plans see the real few, so PostgreSQL
// plans every run anew. pg_stat_statements over 100,000 accounts: 3,795 plans for 4,705 runs
// of the cold read, 0.61 ms to plan against 0.35 ms to run. Its statements are written for
// the generic plan (one index probe an id, whatever the count), so this connection runs
// with plan_cache_mode = force_generic_plan. The setting never reaches the pool: the
// connection is discarded, not returned, when it fails or sits idle.
type genericSession struct {
	mu    sync.Mutex
	conn  *sqlx.Conn
	stmts map[string]*sqlx.Stmt
	used  time.Time
	timer *time.Timer
}

// genericIdle is how long the session's connection outlives its last read.
const genericIdle = 10 * time.Second

// selectGeneric runs a hot read on the generic session; while another read holds it, or
// when the session cannot be set up, it runs on the pool (planned as PostgreSQL decides).
func (s *Store) selectGeneric(ctx context.Context, dest any, query string, args ...any) error {
	g := &s.generic
	if !g.mu.TryLock() {
		return s.selectHot(ctx, dest, query, args...)
	}
	defer g.mu.Unlock()
	st, err := g.stmt(ctx, s, query)
	if err != nil {
		g.discard()
		return s.selectHot(ctx, dest, query, args...)
	}
	if err := st.SelectContext(ctx, dest, args...); err != nil {
		// Whatever went wrong (the server closed the connection, say), the next read starts
		// on a fresh one; this one, a read, runs again on the pool, which replaces a broken
		// connection itself.
		g.discard()
		if ctx.Err() != nil {
			return err
		}
		v := reflect.ValueOf(dest).Elem()
		v.Set(reflect.Zero(v.Type()))
		return s.selectHot(ctx, dest, query, args...)
	}
	g.used = time.Now()
	if g.timer == nil {
		g.timer = time.AfterFunc(genericIdle, g.releaseIdle)
	}
	return nil
}

// stmt returns query prepared on the session's connection, setting the session up first.
// The caller holds g.mu.
func (g *genericSession) stmt(ctx context.Context, s *Store, query string) (*sqlx.Stmt, error) {
	if g.conn == nil {
		conn, err := s.db.Connx(ctx)
		if err != nil {
			return nil, err
		}
		g.conn, g.stmts = conn, map[string]*sqlx.Stmt{}
		if _, err := conn.ExecContext(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
			return nil, err
		}
	}
	if st := g.stmts[query]; st != nil {
		return st, nil
	}
	st, err := g.conn.PreparexContext(ctx, query)
	if err != nil {
		return nil, err
	}
	g.stmts[query] = st
	return st, nil
}

// discard closes the session's connection instead of returning it to the pool. The caller
// holds g.mu.
func (g *genericSession) discard() {
	if g.conn == nil {
		return
	}
	for _, st := range g.stmts {
		st.Close()
	}
	// Raw's function failing with ErrBadConn makes database/sql close the connection.
	g.conn.Raw(func(any) error { return driver.ErrBadConn }) //nolint:errcheck
	g.conn.Close()
	g.conn, g.stmts = nil, nil
}

// releaseIdle discards the connection once no read used it for genericIdle.
func (g *genericSession) releaseIdle() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if idle := time.Since(g.used); idle < genericIdle {
		g.timer.Reset(genericIdle - idle)
		return
	}
	g.timer = nil
	g.discard()
}
