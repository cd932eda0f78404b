package abuse_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/abuse"
	"creditline/billing/abuse/abusesim"
	"creditline/payments"
	"creditline/store"
	"creditline/store/pgtest"
	"github.com/jmoiron/sqlx"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type env struct {
	db    *sqlx.DB
	ctx   context.Context
	st    *store.Store
	svc   *billing.Service
	det   *abuse.Service
	clock *abusesim.Clock
}

// newEnv is a fresh database with test-mode payments, the live price book and a clock the
// test moves.
func newEnv(t *testing.T) *env {
	t.Helper()
	db := pgtest.Fresh(t) // the detectors read every account: no other test's
	st := store.New(db)
	c := abusesim.NewClock(time.Now().UTC().Truncate(time.Hour).Add(20 * time.Minute))
	svc := billing.NewService(st, billing.Options{Now: c.Now, PasswordCost: 4, Payments: payments.NewTestMode()})
	ctx := context.Background()
	if err := svc.SeedCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.LoadLiveBook(ctx); err != nil {
		t.Fatal(err)
	}
	return &env{db: db, ctx: ctx, st: st, svc: svc, det: abuse.New(svc, st.Abuse(), abuse.Options{}), clock: c}
}

// TestSyntheticAttacks plays normal customers beside one attack per detector: one detector
// run flags every attack's accounts with the attack's kind, and no normal customer.
func TestSyntheticAttacks(t *testing.T) {
	e := newEnv(t)
	rep, err := abusesim.New(e.svc, e.det, e.clock, abusesim.Config{Normal: 12, Seed: 1}).Play(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep.Table())
	if len(rep.Results) != 10 {
		t.Fatalf("%d attacks played, want 10", len(rep.Results))
	}
	for _, r := range rep.Results {
		if !r.Flagged {
			t.Errorf("attack %q (%s) on %v not flagged", r.Name, r.Kind, r.Accounts)
		}
	}
	for _, f := range rep.FalsePositives {
		t.Errorf("normal customer %s flagged: %s %s", f.AccountID, f.Kind, f.Evidence)
	}
	// A second run raises nothing new: one open flag per account and kind.
	again, err := e.det.Run(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for kind, n := range again.Raised {
		t.Errorf("second run raised %d more %s flags", n, kind)
	}
}

// TestDemoRaisesNoFlag: the default thresholds raise nothing on `portal seed --demo`'s
// traffic, at several hours of the day (the demo's today depends on the hour).
func TestDemoRaisesNoFlag(t *testing.T) {
	for _, hour := range []int{3, 15} {
		t.Run(fmt.Sprint(hour), func(t *testing.T) {
			e := newEnv(t)
			e.clock.Advance(time.Duration((hour-e.clock.Now().Hour()+24)%24) * time.Hour)
			if _, err := e.svc.SeedDemo(e.ctx); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(time.Minute)
			rep, err := e.det.Run(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Events == 0 {
				t.Fatalf("the demo's usage was not folded: %+v at %v", rep, e.clock.Now())
			}
			flags, err := e.det.Queue(e.ctx, abuse.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range flags {
				t.Errorf("demo flagged: %s %s %s", f.AccountName, f.Kind, f.Evidence)
			}
		})
	}
}
