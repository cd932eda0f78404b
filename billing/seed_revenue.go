package billing

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Demo revenue history: eleven past months of real paid grants (a plan's allotment and packs),
// debits and expiries for the demo customers, written through the ledger by a second service
// whose clock walks through those months. The revenue report then has months to show, from
// the same ledger entries as everything else (never test-mode purchases, which count for
// nothing). Seeded once: a second run finds the first debit and stops. Each history grant's
// expiry job is due at once: seed before workers run (portal seed --demo, portal dev), or a
// worker expires them at today's date instead of their own.

type demoClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *demoClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *demoClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// DemoHistoryMonths is how many past months the demo's revenue history covers.
const DemoHistoryMonths = 11

func demoHistoryKey(acc string, m, i int) string {
	return fmt.Sprintf("demo-hist-%s-%02d-%02d", acc[len(acc)-6:], m, i)
}

func (s *Service) seedDemoHistory(ctx context.Context) error {
	now := s.Now()
	clock := &demoClock{}
	past := NewService(s.store, Options{Now: clock.Now})
	for i, email := range []string{"demo@creditline.test", "nova@creditline.test"} {
		u, err := s.store.UserByEmail(ctx, email)
		if err != nil {
			return err
		}
		acc, _, err := s.AccountForUser(ctx, u.ID, "")
		if err != nil {
			return err
		}
		if _, err := s.store.DebitByKey(ctx, acc.ID, demoHistoryKey(acc.ID, DemoHistoryMonths, 0)); err == nil {
			continue // seeded before
		} else if ErrorCode(err) != ENotFound {
			return err
		}
		r := rand.New(rand.NewPCG(uint64(31+i), 2026))
		for m := DemoHistoryMonths; m >= 1; m-- {
			first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -m, 0)
			if err := past.seedDemoMonth(ctx, clock, r, acc.ID, i == 0, m, first); err != nil {
				return fmt.Errorf("demo history for %s: %w", email, err)
			}
		}
	}
	return nil
}

// seedDemoMonth buys credits early in the month and spends most of them over its days; packs
// expire two months after purchase, so some of each one ends as breakage.
//
// Every history grant ends before the current month (the last month's packs expire at its
// end), so the demo's balance today is what this month's seed makes it.
func (s *Service) seedDemoMonth(ctx context.Context, clock *demoClock, r *rand.Rand, accID string, pro bool, m int, first time.Time) error {
	thisMonth := first.AddDate(0, m, 0)
	clock.set(first.Add(9 * time.Hour))
	type buy struct {
		source  string
		credits Credits
		paid    int64
		months  int
	}
	buys := []buy{{"purchase", 100 * Credit, 10_00, 2}}
	if pro {
		buys = []buy{{"subscription", 5_000 * Credit, 49_00, 1}, {"purchase", 500 * Credit, 45_00, 2}}
		if m%3 == 0 {
			buys = append(buys, buy{"auto_recharge", 500 * Credit, 45_00, 2})
		}
	}
	var budget Credits
	for j, b := range buys {
		exp := s.Now().AddDate(0, b.months, 0)
		if end := thisMonth.Add(-time.Hour); exp.After(end) {
			exp = end
		}
		in := GrantInput{AccountID: accID, Source: b.source, Amount: b.credits, PaidAmount: b.paid, Currency: "usd", ExpiresAt: &exp,
			IdempotencyKey: demoHistoryKey(accID, m, 50+j), Actor: "seed", Reason: "demo history: " + b.source}
		if _, err := s.Grant(ctx, in); err != nil {
			return err
		}
		budget += b.credits
	}
	days := first.AddDate(0, 1, 0).Sub(first).Hours() / 24
	share := Credits(60+r.IntN(35)) * budget / 100 // spend 60-95% of what was bought
	for i := 0; i < 20; i++ {
		clock.set(first.Add(time.Duration(float64(i+1)*days/21*24) * time.Hour).Add(time.Duration(r.IntN(3600)) * time.Second))
		if _, err := s.ExpireGrants(ctx); err != nil {
			return err
		}
		amt := share / 20
		if amt <= 0 {
			continue
		}
		_, err := s.Debit(ctx, DebitInput{AccountID: accID, Amount: amt, IdempotencyKey: demoHistoryKey(accID, m, i), Actor: "seed", Reason: "demo history usage"})
		if err != nil && ErrorCode(err) != EInsufficient {
			return err
		}
	}
	clock.set(first.AddDate(0, 1, 0).Add(-time.Minute))
	_, err := s.ExpireGrants(ctx)
	return err
}
