package store

import (
	"context"
	"strings"

	"github.com/lib/pq"
)

// Internal helpers under test from package store_test (which may import pgtest).
var (
	TextArray  = textArray
	Int64Array = int64Array
	BoolArray  = boolArray
)

// The per-member sums read under an account's lock (their plans are checked).
const (
	MemberUsageSinceSQL = memberUsageSinceSQL
	MemberSelectSQL     = memberSelect
	MemberSpendsSQL     = memberSpendsSQL
)

// An account's copy of its debit-path rules (rulecopy.go).
var (
	EncodeRuleCopy = encodeRuleCopy
	ParseRuleCopy  = parseRuleCopy
	RuleCopyCodes  = ruleCopyCodes
)

// The generic-plan session of the cold read (generic.go).

// GenericSession reports the session's backend pid and the plans PostgreSQL made for the
// cold read on it (ok is false with no session open).
func (s *Store) GenericSession(ctx context.Context) (pid int, generic, custom int64, ok bool, err error) {
	g := &s.generic
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conn == nil {
		return 0, 0, 0, false, nil
	}
	err = g.conn.QueryRowContext(ctx, `SELECT pg_backend_pid(), COALESCE(sum(generic_plans), 0), COALESCE(sum(custom_plans), 0)
		FROM pg_prepared_statements WHERE statement = $1`, ledgerAccountsSQL).Scan(&pid, &generic, &custom)
	return pid, generic, custom, true, err
}

// GenericPlan is the session's plan of the cold read, as EXPLAIN prints it.
func (s *Store) GenericPlan(ctx context.Context) (string, error) {
	g := &s.generic
	g.mu.Lock()
	defer g.mu.Unlock()
	var name string
	if err := g.conn.QueryRowContext(ctx, `SELECT name FROM pg_prepared_statements WHERE statement = $1`, ledgerAccountsSQL).Scan(&name); err != nil {
		return "", err
	}
	var lines []string
	err := g.conn.SelectContext(ctx, &lines, `EXPLAIN EXECUTE `+pq.QuoteIdentifier(name)+`('{acc_a,acc_b}')`)
	return strings.Join(lines, "\n"), err
}

// HoldGeneric keeps the session busy until release is called.
func (s *Store) HoldGeneric() (release func()) {
	s.generic.mu.Lock()
	return s.generic.mu.Unlock
}

// DiscardGeneric closes the session as its idle timer does.
func (s *Store) DiscardGeneric() {
	s.generic.mu.Lock()
	defer s.generic.mu.Unlock()
	s.generic.discard()
}
