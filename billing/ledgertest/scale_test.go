package ledgertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"creditline/billing"
)

// A batch whose accounts are partly cached is not sent whole to the locked path: the
// accounts not cached are read without locks and the batch is decided lock-free, each debit
// charged once; an account that cannot be read so (here: unknown) goes to the locked path
// alone while the others commit lock-free beside it. A cached account changed by another
// instance in the meantime is refused by its version and the batch redone under locks.
func TestMixedBatchDecidesPerAccount(t *testing.T) {
	e := newEnv(t)
	e.clock.Advance(24 * time.Hour) // past the grants other tests of this database made effective later
	ctx := context.Background()
	stats := e.svc.LedgerStats()
	cached, cold := e.account(), e.account()
	e.grant(cached, "10")
	e.grant(cold, "10")
	if _, err := debitOn(t, e.svc, cached, "1", key(), false); err != nil { // caches it
		t.Fatal(err)
	}
	counts := func() [4]int64 {
		return [4]int64{stats.LockFree.Load(), stats.Locked.Load(), stats.Fallbacks.Load(), stats.ColdReads.Load()}
	}
	before := counts()
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
	if got, want := counts(), [4]int64{before[0] + 1, before[1], before[2], before[3] + 1}; got != want {
		t.Fatalf("lock-free, locked, fallbacks, cold reads: %v, want %v (one read, one lock-free statement)", got, want)
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

	before = counts()
	outs, err = e.svc.DebitBatch(ctx, []billing.DebitInput{
		{AccountID: cached, Amount: c("1"), IdempotencyKey: key()},
		{AccountID: "acc_nobody", Amount: c("1"), IdempotencyKey: key()},
		{AccountID: cold, Amount: c("1"), IdempotencyKey: key()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if outs[0].Err != nil || billing.ErrorCode(outs[1].Err) != billing.ENotFound || outs[2].Err != nil {
		t.Fatalf("outcomes: %v / %v / %v", outs[0].Err, outs[1].Err, outs[2].Err)
	}
	if got, want := counts(), [4]int64{before[0] + 1, before[1] + 1, before[2], before[3]}; got != want {
		t.Fatalf("lock-free, locked, fallbacks, cold reads: %v, want %v (the unknown account alone locked)", got, want)
	}
	if e.balance(cached).Balance != c("5") || e.balance(cold).Balance != c("6") {
		t.Fatalf("balances %s and %s, want 5 and 6", e.balance(cached).Balance, e.balance(cold).Balance)
	}

	// Another instance (its own cache, same database) debits the cached account: this
	// instance's entry is stale, and a fresh uncached account joins the batch.
	other := billing.NewService(e.store, billing.Options{Now: e.clock.Now})
	if _, err := debitOn(t, other, cached, "1", key(), false); err != nil {
		t.Fatal(err)
	}
	fresh := e.account()
	e.grant(fresh, "5", func(in *billing.GrantInput) { in.Source = "promo" }) // not a top-up: emptying it fires no alert
	before = counts()
	outs, err = e.svc.DebitBatch(ctx, []billing.DebitInput{
		{AccountID: fresh, Amount: c("4"), IdempotencyKey: key()},
		{AccountID: cached, Amount: c("2"), IdempotencyKey: key()},
		{AccountID: fresh, Amount: c("1"), IdempotencyKey: key()},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range outs {
		if o.Err != nil {
			t.Fatalf("debit %d: %v", i, o.Err)
		}
	}
	if got := counts(); got[2] != before[2]+1 || got[1] != before[1]+1 {
		t.Fatalf("the stale cached account was not refused and redone under locks: %v -> %v", before, got)
	}
	if b := e.balance(cached).Balance; b != c("2") {
		t.Fatalf("cached account balance %s, want 2 (5 - 1 elsewhere - 2)", b)
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
	e.clock.Advance(24 * time.Hour) // see TestMixedBatchDecidesPerAccount
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

// The background fill caches accounts up to the bound and never evicts: a fresh instance
// then debits them lock-free without reading them first.
func TestWarmLedgerCacheAllFillsUpToTheBound(t *testing.T) {
	e := newEnv(t)
	e.clock.Advance(24 * time.Hour) // see TestMixedBatchDecidesPerAccount
	ctx := context.Background()
	acc := e.account()
	e.grant(acc, "10")
	fresh := billing.NewService(e.store, billing.Options{Now: e.clock.Now})
	n, err := fresh.WarmLedgerCacheAll(ctx)
	if err != nil || n == 0 || fresh.LedgerCacheLen() != n {
		t.Fatalf("filled %d (%v), %d cached", n, err, fresh.LedgerCacheLen())
	}
	stats := fresh.LedgerStats()
	if _, err := debitOn(t, fresh, acc, "1", key(), false); err != nil {
		t.Fatal(err)
	}
	if stats.LockFree.Load() != 1 || stats.ColdReads.Load() != 0 {
		t.Fatalf("after the fill: %d lock-free, %d cold reads; want 1 and 0", stats.LockFree.Load(), stats.ColdReads.Load())
	}
	small := billing.NewService(e.store, billing.Options{Now: e.clock.Now, LedgerCacheAccounts: 2})
	if n, err := small.WarmLedgerCacheAll(ctx); err != nil || n != 2 || small.LedgerCacheLen() != 2 {
		t.Fatalf("bound 2: filled %d (%v), %d cached", n, err, small.LedgerCacheLen())
	}
}
