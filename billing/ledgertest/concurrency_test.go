package ledgertest

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"creditline/billing"
)

// 64 goroutines race to debit one account with three times more demand than balance.
func TestConcurrentDebitsOnOneAccount(t *testing.T) {
	for _, tc := range []struct {
		name      string
		overdraft string
		wantOK    int64
	}{{"no overdraft", "0", 32}, {"overdraft 10", "10", 35}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			acc := e.account()
			e.grant(acc, "96")
			if err := e.svc.SetOverdraftLimit(context.Background(), acc, c(tc.overdraft)); err != nil {
				t.Fatal(err)
			}
			var ok, refused atomic.Int64
			var wg sync.WaitGroup
			for g := 0; g < 64; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 3; i++ {
						_, err := e.svc.Debit(context.Background(), billing.DebitInput{AccountID: acc, Amount: c("3"), IdempotencyKey: key()})
						switch billing.ErrorCode(err) {
						case "":
							ok.Add(1)
						case billing.EInsufficient:
							refused.Add(1)
						default:
							t.Errorf("debit: %v", err)
						}
					}
				}()
			}
			wg.Wait()
			if ok.Load() != tc.wantOK || ok.Load()+refused.Load() != 192 {
				t.Fatalf("ok %d refused %d, want %d ok", ok.Load(), refused.Load(), tc.wantOK)
			}
			if st := e.svc.LedgerStats(); st.Fallbacks.Load() == 0 {
				// lock-free attempts raced here and were redone under locks
				t.Fatalf("no lock-free attempt was redone under locks (lock-free %d)", st.LockFree.Load())
			}
			b := e.balance(acc)
			want := c("96") - billing.Credits(ok.Load())*c("3")
			if b.Balance != want || b.Balance < -c(tc.overdraft) {
				t.Fatalf("balance %s, want %s (limit -%s)", b.Balance, want, tc.overdraft)
			}
		})
	}
}

// Batches over 50 accounts in random order, from 8 goroutines: account locks are taken in id
// order, so there is no deadlock, and no account goes below zero.
func TestBatchesAcross50AccountsNoDeadlock(t *testing.T) {
	e := newEnv(t)
	var accs []string
	for i := 0; i < 50; i++ {
		a := e.account()
		e.grant(a, "40")
		accs = append(accs, a)
	}
	var charged atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 7))
			for b := 0; b < 25; b++ {
				var batch []billing.DebitInput
				for _, i := range r.Perm(50)[:12] {
					batch = append(batch, billing.DebitInput{AccountID: accs[i], Amount: c("1.5"), IdempotencyKey: key()})
				}
				outs, err := e.svc.DebitBatch(context.Background(), batch)
				if err != nil {
					t.Errorf("batch: %v", err) // a deadlock would surface here
					return
				}
				for _, o := range outs {
					if o.Err == nil {
						charged.Add(int64(o.Debit.Amount))
					} else if billing.ErrorCode(o.Err) != billing.EInsufficient {
						t.Errorf("debit: %v", o.Err)
					}
				}
			}
		}(uint64(g))
	}
	wg.Wait()
	var left billing.Credits
	for _, a := range accs {
		b := e.balance(a)
		if b.Balance < 0 {
			t.Fatalf("account %s overdrawn: %s", a, b.Balance)
		}
		left += b.Balance
	}
	if left+billing.Credits(charged.Load()) != 50*c("40") {
		t.Fatalf("credits lost: left %s + charged %s != %s", left, billing.Credits(charged.Load()), 50*c("40"))
	}
}

// The same key replayed ten times, sequentially and concurrently, moves credits once.
func TestReplaysChargeOnce(t *testing.T) {
	e := newEnv(t)
	acc := e.account()
	e.grant(acc, "100")
	var first billing.Debit
	for i := 0; i < 10; i++ {
		out, err := e.svc.Debit(context.Background(), billing.DebitInput{AccountID: acc, Amount: c("7.5"), IdempotencyKey: "same"})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = out.Debit
			if out.Replayed {
				t.Fatal("first debit marked replayed")
			}
		} else if !out.Replayed || out.Debit.ID != first.ID || out.Debit.BalanceAfter != first.BalanceAfter {
			t.Fatalf("replay %d: %+v", i, out)
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := e.svc.Debit(context.Background(), billing.DebitInput{AccountID: acc, Amount: c("2"), IdempotencyKey: "concurrent"})
			if err != nil {
				t.Error(err)
			}
			_ = out
		}()
	}
	wg.Wait()
	// A replay inside one batch gets the first result too.
	outs, err := e.svc.DebitBatch(context.Background(), []billing.DebitInput{
		{AccountID: acc, Amount: c("1"), IdempotencyKey: "in-batch"},
		{AccountID: acc, Amount: c("1"), IdempotencyKey: "in-batch"},
		{AccountID: acc, Amount: c("9"), IdempotencyKey: "in-batch"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if outs[0].Err != nil || !outs[1].Replayed || outs[1].Debit.ID != outs[0].Debit.ID || billing.ErrorCode(outs[2].Err) != billing.EIdempotencyConflict {
		t.Fatalf("in-batch duplicates: %+v", outs)
	}
	if b := e.balance(acc); b.Balance != c("89.5") {
		t.Fatalf("balance %s, want 89.5 (100 - 7.5 - 2 - 1)", b.Balance)
	}
	_, err = e.svc.Debit(context.Background(), billing.DebitInput{AccountID: acc, Amount: c("8"), IdempotencyKey: "same"})
	if billing.ErrorCode(err) != billing.EIdempotencyConflict {
		t.Fatalf("same key, other amount: %v", err)
	}
}
