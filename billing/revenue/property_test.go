package revenue_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/revenue"
	"creditline/store"
	"creditline/store/pgtest"
	"github.com/jmoiron/sqlx"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	t     *testing.T
	db    *sqlx.DB
	svc   *billing.Service
	rev   *revenue.Service
	clock *clock
}

// newEnv gives each test a database of its own: the rollups are platform-wide.
func newEnv(t *testing.T, start time.Time) *env {
	db := pgtest.Fresh(t)
	st := store.New(db)
	c := &clock{t: start}
	svc := billing.NewService(st, billing.Options{Now: c.Now})
	return &env{t: t, db: db, svc: svc, rev: revenue.New(st.Revenue(), svc.Now), clock: c}
}

func (e *env) account() string {
	e.t.Helper()
	a, err := e.svc.CreateAccount(context.Background(), billing.CreateAccountInput{Name: fmt.Sprintf("acct %d", rand.IntN(1e9))})
	if err != nil {
		e.t.Fatal(err)
	}
	return a.ID
}

// deferredNow is the oracle, read from grants alone (not the ledger, not the rollups): per
// currency, what paid, real grants still owe, paid − floor(paid × used / amount).
func (e *env) deferredNow() map[string]int64 {
	e.t.Helper()
	var rows []struct {
		Currency  string `db:"currency"`
		Paid      int64  `db:"paid_amount"`
		Amount    int64  `db:"amount"`
		Remaining int64  `db:"remaining"`
	}
	if err := e.db.Select(&rows, `SELECT currency, paid_amount, amount, remaining FROM grants WHERE paid_amount > 0 AND NOT test_mode`); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Currency] += r.Paid - revenue.MovedCents(r.Paid, r.Amount-r.Remaining, r.Amount)
	}
	return out
}

func (e *env) cashAll() map[string]int64 {
	var rows []struct {
		Currency string `db:"currency"`
		Paid     int64  `db:"paid"`
	}
	if err := e.db.Select(&rows, `SELECT currency, sum(paid_amount)::bigint AS paid FROM grants WHERE NOT test_mode GROUP BY currency`); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Currency] = r.Paid
	}
	return out
}

type grantRef struct {
	id, pi string
	paid   int64
	refund int64
}

// TestPropertyIdentityEveryMonth runs random purchases, subscriptions, test-mode purchases,
// promos, debits, expiries, refunds and revokes over six months, catching up at random
// moments; then, for every month and currency, the identity holds, the closing deferred equals
// the oracle's deferred at that month's end, and recognised + breakage + refunds + deferred
// equals all cash received.
func TestPropertyIdentityEveryMonth(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { propertyRun(t, seed) })
	}
}

func propertyRun(t *testing.T, seed uint64) {
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := newEnv(t, start.Add(time.Hour))
	r := rand.New(rand.NewPCG(seed, 21))
	accts := []string{e.account(), e.account(), e.account()}
	var paid []grantRef
	expected := map[string]map[string]int64{} // month -> currency -> deferred at its end
	n := 0
	const months = 6
	for mo := 0; mo < months; mo++ {
		monthStart := start.AddDate(0, mo, 0)
		end := monthStart.AddDate(0, 1, 0)
		for e.clock.Now().Before(end.Add(-26 * time.Hour)) {
			n++
			acc := accts[r.IntN(len(accts))]
			switch k := r.IntN(12); {
			case k < 3: // a pack, sometimes in euros, sometimes expiring soon
				cur := []string{"usd", "usd", "eur"}[r.IntN(3)]
				credits := int64(1+r.IntN(500)) * 1000
				exp := e.clock.Now().Add(time.Duration(1+r.IntN(60*24)) * time.Hour)
				pi := fmt.Sprintf("pi_%d_%d", seed, n)
				p := int64(100 + r.IntN(9900))
				g, err := e.svc.Grant(ctx, billing.GrantInput{AccountID: acc, Source: []string{"purchase", "auto_recharge"}[r.IntN(2)],
					Amount: billing.Credits(credits + int64(r.IntN(999))), PaidAmount: p, Currency: cur, ExpiresAt: &exp,
					StripePaymentIntent: pi, Reason: "pack"})
				if err != nil {
					t.Fatal(err)
				}
				paid = append(paid, grantRef{id: g.Grant.ID, pi: pi, paid: p})
			case k < 4:
				exp := e.clock.Now().AddDate(0, 1, 0)
				if _, err := e.svc.Grant(ctx, billing.GrantInput{AccountID: acc, Source: "subscription", Amount: billing.Credits(int64(1+r.IntN(100)) * 1000),
					PaidAmount: int64(1 + r.IntN(5000)), Currency: "usd", ExpiresAt: &exp, StripeInvoice: fmt.Sprintf("in_%d_%d", seed, n), Reason: "period"}); err != nil {
					t.Fatal(err)
				}
			case k < 5: // money that is not revenue: test mode and promo
				if _, err := e.svc.Grant(ctx, billing.GrantInput{AccountID: acc, Source: "purchase", Amount: 50_000, PaidAmount: 1000, TestMode: true, Reason: "test"}); err != nil {
					t.Fatal(err)
				}
				if _, err := e.svc.Grant(ctx, billing.GrantInput{AccountID: acc, Source: "promo", Amount: 20_000, Reason: "promo"}); err != nil {
					t.Fatal(err)
				}
			case k < 9:
				_, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: billing.Credits(1 + r.IntN(80_000)), IdempotencyKey: fmt.Sprintf("d-%d-%d", seed, n)})
				if err != nil && billing.ErrorCode(err) != billing.EInsufficient {
					t.Fatal(err)
				}
			case k < 10 && len(paid) > 0: // a Stripe refund, partial or full, cumulative
				g := &paid[r.IntN(len(paid))]
				if g.refund < g.paid {
					g.refund = min(g.paid, g.refund+1+r.Int64N(g.paid))
					_, err := e.svc.ProcessPaymentEvent(ctx, billing.PaymentEvent{ID: fmt.Sprintf("evt_%d_%d", seed, n), Type: "charge.refunded",
						Created: e.clock.Now(), Charge: &billing.ChargeEvent{ID: "ch_" + g.pi, PaymentIntentID: g.pi, Amount: g.paid, AmountRefunded: g.refund, Currency: "usd"}})
					if err != nil {
						t.Fatal(err)
					}
				}
			case k < 11 && len(paid) > 0: // an admin revoke of part of a grant
				g := paid[r.IntN(len(paid))]
				if _, err := e.svc.Revoke(ctx, billing.RevokeInput{GrantID: g.id, Amount: billing.Credits(1 + r.IntN(30_000)), Reason: "correction"}); err != nil {
					t.Fatal(err)
				}
			default:
				if _, err := e.rev.CatchUp(ctx); err != nil {
					t.Fatal(err)
				}
			}
			e.clock.Advance(time.Duration(1+r.IntN(20)) * time.Hour)
			if _, err := e.svc.ExpireGrants(ctx); err != nil {
				t.Fatal(err)
			}
		}
		e.clock.Advance(end.Add(-time.Minute).Sub(e.clock.Now()))
		if _, err := e.svc.ExpireGrants(ctx); err != nil {
			t.Fatal(err)
		}
		expected[monthStart.Format("2006-01")] = e.deferredNow()
		e.clock.Advance(2 * time.Minute)
	}
	if _, err := e.rev.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := e.rev.Months(ctx, start.AddDate(0, months-1, 0), months)
	if err != nil {
		t.Fatal(err)
	}
	cash := e.cashAll()
	if len(rep.Currencies) != 2 {
		t.Fatalf("currencies %v, want usd and eur", rep.Currencies)
	}
	for _, cur := range rep.Currencies {
		rows := rep.ByCurrency[cur]
		if len(rows) != months {
			t.Fatalf("%s: %d months, want %d", cur, len(rows), months)
		}
		var moved, cashSum int64
		for i, m := range rows {
			if got := m.Opening + m.Cash - m.Recognised - m.Breakage - m.Refunds; got != m.Closing {
				t.Errorf("%s %s: opening %d + cash %d - recognised %d - breakage %d - refunds %d = %d, closing %d",
					cur, m.Month.Format("2006-01"), m.Opening, m.Cash, m.Recognised, m.Breakage, m.Refunds, got, m.Closing)
			}
			if i > 0 && m.Opening != rows[i-1].Closing {
				t.Errorf("%s %s: opening %d, previous closing %d", cur, m.Month.Format("2006-01"), m.Opening, rows[i-1].Closing)
			}
			if want := expected[m.Month.Format("2006-01")][cur]; m.Closing != want {
				t.Errorf("%s %s: closing deferred %d, the grants owe %d", cur, m.Month.Format("2006-01"), m.Closing, want)
			}
			moved += m.Recognised + m.Breakage + m.Refunds
			cashSum += m.Cash
		}
		if cashSum != cash[cur] {
			t.Errorf("%s: cash %d, grants were paid %d", cur, cashSum, cash[cur])
		}
		if last := rows[len(rows)-1]; moved+last.Closing != cash[cur] {
			t.Errorf("%s: recognised+breakage+refunds %d + deferred %d != all cash %d", cur, moved, last.Closing, cash[cur])
		}
		if rows[0].Opening != 0 {
			t.Errorf("%s: first opening %d", cur, rows[0].Opening)
		}
	}
	// Catching up again counts nothing twice.
	again, err := e.rev.Months(ctx, start.AddDate(0, months-1, 0), months)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(again.ByCurrency) != fmt.Sprint(rep.ByCurrency) {
		t.Error("a second catch-up changed the report")
	}
}

// TestUsedUpGrantRecognisesExactly: a grant consumed in awkward pieces recognises its paid
// amount to the cent.
func TestUsedUpGrantRecognisesExactly(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC))
	acc := e.account()
	if _, err := e.svc.Grant(ctx, billing.GrantInput{AccountID: acc, Source: "purchase", Amount: 3000, PaidAmount: 1000, Currency: "usd", Reason: "pack"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: 1000, IdempotencyKey: fmt.Sprint("k", i)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.rev.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := e.rev.Month(ctx, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Recognised != 1000 || rows[0].Closing != 0 || rows[0].CashPacks != 1000 {
		t.Fatalf("got %+v, want 1000 cents recognised (333+333+334), nothing deferred", rows)
	}
}

func TestMovedCents(t *testing.T) {
	for _, c := range []struct{ paid, used, amount, want int64 }{
		{1000, 1000, 3000, 333}, {1000, 2000, 3000, 666}, {1000, 3000, 3000, 1000}, {0, 5, 10, 0},
		{1_000_000_000_000, 999_999_999_999_999, 1_000_000_000_000_000, 999_999_999_999}, {7, -1, 10, 0}, {7, 11, 10, 7},
	} {
		if got := revenue.MovedCents(c.paid, c.used, c.amount); got != c.want {
			t.Errorf("MovedCents(%d, %d, %d) = %d, want %d", c.paid, c.used, c.amount, got, c.want)
		}
	}
}
