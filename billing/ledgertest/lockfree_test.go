package ledgertest

import (
	"context"
	"testing"

	"creditline/billing"
)

// debit runs one debit through svc and returns its outcome (err is the refusal, if any).
func debitOn(t *testing.T, svc *billing.Service, acc, amount, k string, enforce bool) (billing.DebitOutcome, error) {
	t.Helper()
	return svc.Debit(context.Background(), billing.DebitInput{AccountID: acc, Amount: c(amount), IdempotencyKey: k, Enforce: enforce})
}

// TestLockFreeDebitsSeeEveryOtherChange: after a locked batch caches an account, debits are
// decided against the cache and committed with one version-checked statement. Every change
// made elsewhere (a grant, a status, a limit, another instance's debits) must be seen: the
// statement is refused and the batch redone under locks, never decided on stale state.
func TestLockFreeDebitsSeeEveryOtherChange(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	stats := e.svc.LedgerStats()
	acc := e.account()
	e.grant(acc, "10")
	if _, err := debitOn(t, e.svc, acc, "1", key(), true); err != nil { // locked: fills the cache
		t.Fatal(err)
	}
	free := stats.LockFree.Load()
	if _, err := debitOn(t, e.svc, acc, "1", key(), true); err != nil {
		t.Fatal(err)
	}
	if stats.LockFree.Load() != free+1 {
		t.Fatalf("second debit was not lock-free (lock-free %d -> %d)", free, stats.LockFree.Load())
	}

	t.Run("replayed key", func(t *testing.T) {
		k := key()
		first, err := debitOn(t, e.svc, acc, "1", k, true)
		if err != nil {
			t.Fatal(err)
		}
		fb := stats.Fallbacks.Load()
		again, err := debitOn(t, e.svc, acc, "1", k, true)
		if err != nil || !again.Replayed || again.Debit.ID != first.Debit.ID {
			t.Fatalf("replay: %+v %v, want the first debit %s replayed", again, err, first.Debit.ID)
		}
		if stats.Fallbacks.Load() != fb+1 {
			t.Fatalf("the replay should have been refused by the unique key and redone under locks")
		}
	})

	t.Run("replay of a debit that emptied the account", func(t *testing.T) {
		acc := e.account()
		e.grant(acc, "3")
		if _, err := debitOn(t, e.svc, acc, "1", key(), false); err != nil { // cached
			t.Fatal(err)
		}
		k := key()
		first, err := debitOn(t, e.svc, acc, "2", k, false) // lock-free, leaves 0
		if err != nil {
			t.Fatal(err)
		}
		// Decided against the cache alone, the replay would be refused for want of credits.
		again, err := debitOn(t, e.svc, acc, "2", k, false)
		if err != nil || !again.Replayed || again.Debit.ID != first.Debit.ID {
			t.Fatalf("replay after the account emptied: %+v %v, want debit %s replayed", again.Debit, err, first.Debit.ID)
		}
	})

	t.Run("suspended elsewhere", func(t *testing.T) {
		if err := e.svc.SetAccountStatus(ctx, acc, billing.StatusSuspended, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := debitOn(t, e.svc, acc, "1", key(), true); billing.ErrorCode(err) != billing.EAccountSuspended {
			t.Fatalf("debit on a suspended account: %v", err)
		}
		if err := e.svc.SetAccountStatus(ctx, acc, billing.StatusActive, ""); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("refused on stale state, then granted elsewhere", func(t *testing.T) {
		left := e.balance(acc).Balance
		if _, err := debitOn(t, e.svc, acc, left.String(), key(), true); err != nil { // drain to 0
			t.Fatal(err)
		}
		if _, err := debitOn(t, e.svc, acc, "3", key(), true); billing.ErrorCode(err) != billing.EInsufficient {
			t.Fatalf("debit of an empty account: %v", err)
		}
		e.grant(acc, "5") // the cache still says 0 available
		out, err := debitOn(t, e.svc, acc, "3", key(), true)
		if err != nil {
			t.Fatalf("debit after a grant made elsewhere was refused: %v", err)
		}
		if out.Debit.BalanceAfter != c("2") {
			t.Fatalf("balance after %s, want 2", out.Debit.BalanceAfter)
		}
	})

	t.Run("another instance", func(t *testing.T) {
		other := billing.NewService(e.store, billing.Options{Now: e.clock.Now}) // its own cache, same database
		acc := e.account()
		e.grant(acc, "10")
		for _, amt := range []string{"1", "3"} { // cached on this instance, at 6
			if _, err := debitOn(t, e.svc, acc, amt, key(), false); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := debitOn(t, other, acc, "5", key(), false); err != nil { // 1 left
			t.Fatal(err)
		}
		if _, err := debitOn(t, e.svc, acc, "2", key(), false); billing.ErrorCode(err) != billing.EInsufficient {
			t.Fatalf("debit of 2 with 1 left (spent by another instance): %v", err)
		}
		out, err := debitOn(t, e.svc, acc, "1", key(), false)
		if err != nil || out.Debit.BalanceAfter != 0 {
			t.Fatalf("last credit: %+v %v", out.Debit, err)
		}
		if b := e.balance(acc).Balance; b != 0 {
			t.Fatalf("balance %s, want 0", b)
		}
	})

	t.Run("limit changed elsewhere", func(t *testing.T) {
		acc := e.account()
		e.grant(acc, "2")
		if _, err := debitOn(t, e.svc, acc, "2", key(), false); err != nil {
			t.Fatal(err)
		}
		if _, err := debitOn(t, e.svc, acc, "1", key(), false); billing.ErrorCode(err) != billing.EInsufficient {
			t.Fatalf("debit beyond a zero overdraft limit: %v", err)
		}
		if err := e.svc.SetOverdraftLimit(ctx, acc, c("5")); err != nil {
			t.Fatal(err)
		}
		out, err := debitOn(t, e.svc, acc, "4", key(), false)
		if err != nil || out.Debit.Overdraft != c("4") {
			t.Fatalf("debit into a raised overdraft limit: %+v %v", out.Debit, err)
		}
	})
}

// TestLockedPathAlone: with the lock-free path off, every batch locks its accounts.
func TestLockedPathAlone(t *testing.T) {
	e := newEnv(t, billing.Options{LockedDebits: true})
	acc := e.account()
	e.grant(acc, "5")
	for i := 0; i < 3; i++ {
		if _, err := debitOn(t, e.svc, acc, "1", key(), false); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.svc.LedgerStats().LockFree.Load(); n != 0 {
		t.Fatalf("%d lock-free batches with the path off", n)
	}
	if b := e.balance(acc).Balance; b != c("2") {
		t.Fatalf("balance %s, want 2", b)
	}
}

// A service that just started warms its cache from the accounts that moved credits last: its
// first debits on them are lock-free. What changed after the warm-up (a grant made by another
// instance, with a different consumption order) is still seen: the statement is refused and
// the debit decided again under locks.
func TestWarmLedgerCache(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	busy, quiet, changed := e.account(), e.account(), e.account()
	for _, acc := range []string{quiet, busy, changed} { // busy and changed moved credits last
		e.grant(acc, "10")
	}
	// An operator's external id may equal another account's id: routing must keep them apart.
	twin, err := e.svc.CreateAccount(ctx, billing.CreateAccountInput{Name: "twin", ExternalID: busy})
	if err != nil {
		t.Fatal(err)
	}
	e.grant(twin.ID, "10") // after quiet: warmed too, but before busy's debit
	if _, err := debitOn(t, e.svc, busy, "1", key(), false); err != nil {
		t.Fatal(err)
	}
	if _, err := debitOn(t, e.svc, changed, "1", key(), false); err != nil {
		t.Fatal(err)
	}

	fresh := billing.NewService(e.store, billing.Options{Now: e.clock.Now}) // a restarted instance: empty caches
	n, err := fresh.WarmLedgerCache(ctx, 3)
	if err != nil || n != 3 {
		t.Fatalf("warm: %d accounts, %v; want the 3 that moved credits last", n, err)
	}
	for ref, want := range map[string]string{busy: busy, "external:" + busy: twin.ID} {
		if a, err := fresh.AccountSnapshot(ctx, ref); err != nil || a.ID != want {
			t.Fatalf("after warm-up, %q routes to %s (%v), want %s", ref, a.ID, err, want)
		}
	}
	stats := fresh.LedgerStats()
	if _, err := debitOn(t, fresh, busy, "2", key(), false); err != nil {
		t.Fatal(err)
	}
	if stats.LockFree.Load() != 1 || stats.Locked.Load() != 0 {
		t.Fatalf("first debit after warm-up: %d lock-free, %d locked; want it lock-free", stats.LockFree.Load(), stats.Locked.Load())
	}
	// Not among the 3: read without locks, then decided lock-free like a cached one.
	if _, err := debitOn(t, fresh, quiet, "2", key(), false); err != nil {
		t.Fatal(err)
	}
	if stats.ColdReads.Load() != 1 || stats.LockFree.Load() != 2 || stats.Locked.Load() != 0 {
		t.Fatalf("debit of an account left out of the warm-up: %d cold reads, %d lock-free, %d locked; want 1, 2, 0",
			stats.ColdReads.Load(), stats.LockFree.Load(), stats.Locked.Load())
	}

	promo := e.grant(changed, "5", func(g *billing.GrantInput) { g.Source = "promo" }) // drawn first
	out, err := debitOn(t, fresh, changed, "6", key(), false)
	if err != nil {
		t.Fatal(err)
	}
	if out.Debit.BalanceAfter != c("8") || stats.Fallbacks.Load() != 1 {
		t.Fatalf("debit after a grant made elsewhere: balance %s (want 8), %d fallbacks (want 1)", out.Debit.BalanceAfter, stats.Fallbacks.Load())
	}
	var left billing.Credits
	if err := e.db.Get(&left, `SELECT remaining FROM grants WHERE id = $1`, promo.ID); err != nil || left != 0 {
		t.Fatalf("promo grant has %s left (%v): the debit was not decided on the new grants", left, err)
	}
}
