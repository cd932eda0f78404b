package ledgertest

import (
	"context"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"creditline/billing"
)

// model is a deliberately simple re-statement of the ledger rules.
type model struct {
	grants []*mGrant
	holds  []mHold // active holds, oldest first
	now    time.Time
}

type mHold struct {
	id  string
	amt billing.Credits
}

// cover shrinks the newest holds until available is back at zero (no overdraft here).
func (m *model) cover() {
	deficit := m.reserved() - m.balance()
	for i := len(m.holds) - 1; i >= 0 && deficit > 0; i-- {
		x := min(deficit, m.holds[i].amt)
		m.holds[i].amt -= x
		deficit -= x
	}
}

func (m *model) take(id string) billing.Credits {
	for i, h := range m.holds {
		if h.id == id {
			m.holds = append(m.holds[:i], m.holds[i+1:]...)
			return h.amt
		}
	}
	return 0
}

type mGrant struct {
	id        string
	prio      int
	expires   *time.Time
	seq       int
	remaining billing.Credits
}

func (m *model) live(g *mGrant) bool {
	return g.remaining > 0 && (g.expires == nil || g.expires.After(m.now))
}

func (m *model) balance() (b billing.Credits) {
	for _, g := range m.grants {
		if m.live(g) {
			b += g.remaining
		}
	}
	return
}

func (m *model) reserved() (r billing.Credits) {
	for _, h := range m.holds {
		r += h.amt
	}
	return
}

func (m *model) spend(amt billing.Credits) {
	gs := append([]*mGrant(nil), m.grants...)
	sort.SliceStable(gs, func(i, j int) bool {
		a, b := gs[i], gs[j]
		if a.prio != b.prio {
			return a.prio < b.prio
		}
		if (a.expires == nil) != (b.expires == nil) {
			return a.expires != nil
		}
		if a.expires != nil && !a.expires.Equal(*b.expires) {
			return a.expires.Before(*b.expires)
		}
		return a.seq < b.seq
	})
	for _, g := range gs {
		if m.live(g) && amt > 0 {
			t := min(amt, g.remaining)
			g.remaining -= t
			amt -= t
		}
	}
}

// TestModelBasedRandomOperations runs random grant, debit, hold, commit, release, expire and
// revoke sequences against the real ledger and the model, comparing after every step.
func TestModelBasedRandomOperations(t *testing.T) {
	e := newEnv(t) // one clock for all seeds: verify judges pending grants by it
	for seed := uint64(1); seed <= 6; seed++ {
		ctx := context.Background()
		r := rand.New(rand.NewPCG(seed, 99))
		acc := e.account()
		m := &model{now: e.clock.Now()}
		sources := []string{"promo", "subscription", "purchase"}
		prio := map[string]int{"promo": 10, "subscription": 20, "purchase": 30}
		var holdIDs []string
		for step := 0; step < 60; step++ {
			// Distinct creation times: "oldest first" and "newest hold first" are then well defined.
			e.clock.Advance(time.Millisecond)
			m.now = e.clock.Now()
			amt := billing.Credits(r.IntN(40)+1) * 250 // 0.25 .. 10 credits
			switch op := r.IntN(9); op {
			case 0, 1: // grant
				src := sources[r.IntN(3)]
				in := billing.GrantInput{AccountID: acc, Source: src, Amount: amt * 3, Reason: "model"}
				var exp *time.Time
				if r.IntN(2) == 0 {
					x := e.clock.Now().Add(time.Duration(r.IntN(5)+1) * time.Minute)
					exp, in.ExpiresAt = &x, &x
				}
				res, err := e.svc.Grant(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				m.grants = append(m.grants, &mGrant{id: res.Grant.ID, prio: prio[src], expires: exp, seq: step, remaining: amt * 3})
			case 2, 3: // debit
				_, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: amt, IdempotencyKey: key()})
				if m.balance()-m.reserved() >= amt {
					if err != nil {
						t.Fatalf("seed %d step %d: debit %s refused: %v", seed, step, amt, err)
					}
					m.spend(amt)
				} else if billing.ErrorCode(err) != billing.EInsufficient {
					t.Fatalf("seed %d step %d: debit %s beyond available: %v", seed, step, amt, err)
				}
			case 4, 8: // hold
				h, err := e.svc.Reserve(ctx, billing.ReserveInput{AccountID: acc, Amount: amt, TTL: time.Hour, IdempotencyKey: key()})
				if m.balance()-m.reserved() >= amt {
					if err != nil {
						t.Fatalf("seed %d step %d: hold refused: %v", seed, step, err)
					}
					m.holds = append(m.holds, mHold{h.Hold.ID, amt})
					holdIDs = append(holdIDs, h.Hold.ID)
				} else if billing.ErrorCode(err) != billing.EInsufficient {
					t.Fatalf("seed %d step %d: hold beyond available: %v", seed, step, err)
				}
			case 5: // commit or release the oldest open hold
				if len(holdIDs) == 0 {
					continue
				}
				id := holdIDs[0]
				holdIDs = holdIDs[1:]
				held := m.take(id)
				if held == 0 { // fully released when its credits expired or were revoked
					continue
				}
				if r.IntN(2) == 0 {
					if _, err := e.svc.ReleaseHold(ctx, id, acc, "model"); err != nil {
						t.Fatal(err)
					}
					continue
				}
				actual := billing.Credits(r.IntN(int(held)*2) + 1)
				out, err := e.svc.CommitHold(ctx, billing.CommitInput{HoldID: id, Amount: actual, IdempotencyKey: key()})
				if err != nil {
					t.Fatal(err)
				}
				want := min(actual, m.balance()-m.reserved())
				if out.Debit.Amount != want {
					t.Fatalf("seed %d step %d: commit charged %s, model %s", seed, step, out.Debit.Amount, want)
				}
				m.spend(want)
			case 6: // time passes; the sweep writes breakage
				e.clock.Advance(time.Duration(r.IntN(3)+1) * time.Minute)
				m.now = e.clock.Now()
				if _, err := e.svc.ExpireGrants(ctx); err != nil {
					t.Fatal(err)
				}
				m.cover()
			case 7: // revoke part of a random grant
				if len(m.grants) == 0 {
					continue
				}
				g := m.grants[r.IntN(len(m.grants))]
				res, err := e.svc.Revoke(ctx, billing.RevokeInput{GrantID: g.id, Amount: amt, Reason: "model"})
				if err != nil {
					t.Fatal(err)
				}
				want := billing.Credits(0)
				if m.live(g) {
					want = min(amt, g.remaining)
				}
				// Revoking credits that are held reduces the newest holds (see cover).
				if res.Revoked != want {
					t.Fatalf("seed %d step %d: revoked %s, model %s", seed, step, res.Revoked, want)
				}
				g.remaining -= want
				m.cover()
			}
			b := e.balance(acc)
			if b.Balance != m.balance() || b.Reserved != m.reserved() {
				t.Fatalf("seed %d step %d: ledger balance %s reserved %s, model %s %s", seed, step, b.Balance, b.Reserved, m.balance(), m.reserved())
			}
		}
	}
	// Debits went both ways: lock-free on cached accounts, and redone under locks after the
	// grants, holds and expiries in between changed the account.
	if st := e.svc.LedgerStats(); st.LockFree.Load() == 0 || st.Fallbacks.Load() == 0 {
		t.Fatalf("lock-free %d, fallbacks %d: want both paths exercised", st.LockFree.Load(), st.Fallbacks.Load())
	}
}
