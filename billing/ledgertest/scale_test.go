package ledgertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"creditline/billing"
)

// A batch whose accounts are partly cached is not sent whole to the locked path: the debits
// of cached accounts commit lock-free, those of the others under locks, each charged once.
// A cached account changed by another instance in the meantime is refused by its version
// and redone under locks, beside the uncached ones.
func TestMixedBatchDecidesPerAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	stats := e.svc.LedgerStats()
	cached, cold := e.account(), e.account()
	e.grant(cached, "10")
	e.grant(cold, "10")
	if _, err := debitOn(t, e.svc, cached, "1", key(), false); err != nil { // locked: caches it
		t.Fatal(err)
	}
	free, locked, fb := stats.LockFree.Load(), stats.Locked.Load(), stats.Fallbacks.Load()
	outs, err := e.svc.DebitBatch(ctx, []billing.DebitInput{
		{AccountID: cached, Amount: c("2"), IdempotencyKey: key()},
		{AccountID: cold, Amount: c("3"), IdempotencyKey: key()},
		{AccountID: cached, Amount: c("1"), IdempotencyKey: key()},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range outs {
		if o.Err != nil || o.Replayed {
			t.Fatalf("debit %d: %+v", i, o)
		}
	}
	if stats.LockFree.Load() != free+1 || stats.Locked.Load() != locked+1 || stats.Fallbacks.Load() != fb {
		t.Fatalf("lock-free %d->%d, locked %d->%d, fallbacks %d->%d: want one of each side and no fallback",
			free, stats.LockFree.Load(), locked, stats.Locked.Load(), fb, stats.Fallbacks.Load())
	}
	if b := e.balance(cached).Balance; b != c("6") {
		t.Fatalf("cached account balance %s, want 6", b)
	}
	if b := e.balance(cold).Balance; b != c("7") {
		t.Fatalf("uncached account balance %s, want 7", b)
	}
	if outs[2].Debit.BalanceAfter != c("6") {
		t.Fatalf("second debit of the cached account decided on %s, want 6 after", outs[2].Debit.BalanceAfter)
	}

	// Another instance (its own cache, same database) debits the cached account: this
	// instance's entry is stale, and a fresh uncached account joins the batch.
	other := billing.NewService(e.store, billing.Options{Now: e.clock.Now})
	if _, err := debitOn(t, other, cached, "1", key(), false); err != nil {
		t.Fatal(err)
	}
	fresh := e.account()
	e.grant(fresh, "5")
	fb = stats.Fallbacks.Load()
	outs, err = e.svc.DebitBatch(ctx, []billing.DebitInput{
		{AccountID: fresh, Amount: c("5"), IdempotencyKey: key()},
		{AccountID: cached, Amount: c("2"), IdempotencyKey: key()},
		{AccountID: fresh, Amount: c("1"), IdempotencyKey: key()}, // refused: fresh is empty by then
	})
	if err != nil {
		t.Fatal(err)
	}
	if outs[0].Err != nil || outs[1].Err != nil || billing.ErrorCode(outs[2].Err) != billing.EInsufficient {
		t.Fatalf("outcomes: %v / %v / %v", outs[0].Err, outs[1].Err, outs[2].Err)
	}
	if stats.Fallbacks.Load() != fb+1 {
		t.Fatalf("the stale cached account was not refused and redone (fallbacks %d -> %d)", fb, stats.Fallbacks.Load())
	}
	if b := e.balance(cached).Balance; b != c("3") {
		t.Fatalf("cached account balance %s, want 3 (6 - 1 elsewhere - 2)", b)
	}
	if b := e.balance(fresh).Balance; b != 0 {
		t.Fatalf("fresh account balance %s, want 0", b)
	}
}

// With a cache far smaller than the accounts in use, concurrent debits (through the batcher,
// and from a second instance) keep evicting and re-caching accounts: every account must end
// at its grants minus exactly the debits answered as charged, the bound must hold, and every
// ledger invariant (verify, run by the env) must hold.
func TestEvictionUnderConcurrentDebits(t *testing.T) {
	const bound, accounts, workers, perWorker = 8, 40, 12, 40
	e := newEnv(t, billing.Options{LedgerCacheAccounts: bound})
	startGC(t, e, 2, 0)
	other := billing.NewService(e.store, billing.Options{Now: e.clock.Now, LedgerCacheAccounts: bound})
	ctx := context.Background()
	ids := make([]string, accounts)
	for i := range ids {
		ids[i] = e.account()
		e.grant(ids[i], "1000")
	}
	var mu sync.Mutex
	charged := map[string]billing.Credits{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 9))
			svc := e.svc
			if w%4 == 3 {
				svc = other
			}
			for i := 0; i < perWorker; i++ {
				acc := ids[r.IntN(accounts)]
				amt := billing.Credits(r.IntN(3)+1) * billing.Credit
				k := fmt.Sprintf("evict-%d-%d", w, i)
				out, err := svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: amt, IdempotencyKey: k})
				if err != nil {
					t.Errorf("debit %s: %v", k, err)
					return
				}
				if i%5 == 0 { // a retry replays, never charges twice
					again, err := svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: amt, IdempotencyKey: k})
					if err != nil || !again.Replayed || again.Debit.ID != out.Debit.ID {
						t.Errorf("retry of %s: %+v %v", k, again, err)
					}
				}
				mu.Lock()
				charged[acc] += out.Debit.Amount
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	for _, id := range ids {
		if got, want := e.balance(id).Balance, c("1000")-charged[id]; got != want {
			t.Errorf("account %s: balance %s, want %s", id, got, want)
		}
	}
	if n := e.svc.LedgerCacheLen(); n > bound || n == 0 {
		t.Fatalf("%d accounts cached, bound %d", n, bound)
	}
	if e.svc.LedgerStats().LockFree.Load() == 0 {
		t.Fatal("no batch was lock-free: the test did not exercise the cache")
	}
}
