// Package ledgertest tests the ledger on real PostgreSQL: concurrency, idempotency,
// crashes between steps, and a model of the rules; `verify` runs after each test.
package ledgertest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"creditline/billing"
	"creditline/store"
	"creditline/store/pgtest"
	"github.com/jmoiron/sqlx"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// clock is a settable time source shared by a test and its service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	t     *testing.T
	db    *sqlx.DB
	store *store.Store
	svc   *billing.Service
	clock *clock
}

var seq atomic.Int64

// newEnv builds the service over a fresh database; o, when given, sets its options (the
// clock is always the env's).
func newEnv(t *testing.T, o ...billing.Options) *env {
	db := pgtest.DB(t)
	st := store.New(db)
	c := &clock{t: time.Now().UTC().Truncate(time.Millisecond)}
	var opts billing.Options
	if len(o) > 0 {
		opts = o[0]
	}
	opts.Now = c.Now
	svc := billing.NewService(st, opts)
	e := &env{t: t, db: db, store: st, svc: svc, clock: c}
	t.Cleanup(e.verify)
	return e
}

// verify fails the test when any ledger invariant is broken (run after every test).
func (e *env) verify() {
	e.t.Helper()
	vs, err := e.svc.Verify(context.Background())
	if err != nil {
		e.t.Fatalf("verify: %v", err)
	}
	for _, v := range vs {
		e.t.Errorf("verify: %s", v)
	}
}

func (e *env) account() string {
	a, err := e.svc.CreateAccount(context.Background(), billing.CreateAccountInput{Name: fmt.Sprintf("acct %d", seq.Add(1))})
	if err != nil {
		e.t.Fatal(err)
	}
	return a.ID
}

func (e *env) grant(acc string, credits string, mods ...func(*billing.GrantInput)) billing.Grant {
	e.t.Helper()
	in := billing.GrantInput{AccountID: acc, Source: "purchase", Amount: billing.MustCredits(credits), Reason: "test"}
	for _, m := range mods {
		m(&in)
	}
	r, err := e.svc.Grant(context.Background(), in)
	if err != nil {
		e.t.Fatal(err)
	}
	return r.Grant
}

func (e *env) balance(acc string) billing.BalanceSummary {
	e.t.Helper()
	b, err := e.svc.Balance(context.Background(), acc)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func key() string { return fmt.Sprintf("k-%d", seq.Add(1)) }

func c(s string) billing.Credits { return billing.MustCredits(s) }
