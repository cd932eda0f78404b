package ledgertest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"creditline/billing"
)

func startGC(t *testing.T, e *env, shards int, window time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	wait := e.svc.StartGroupCommit(ctx, billing.GroupCommitConfig{Shards: shards, MaxBatch: 64, Window: window})
	t.Cleanup(func() { cancel(); wait() })
}

// Concurrent single debits coalesce; duplicates of one key inside a batch are charged once,
// charged and refused debits share batches, and every caller gets its own answer.
func TestGroupCommitMixedBatches(t *testing.T) {
	e := newEnv(t)
	startGC(t, e, 2, 5*time.Millisecond) // a window so batches surely hold many requests
	ctx := context.Background()
	rich, poor := e.account(), e.account()
	e.grant(rich, "1000")
	e.grant(poor, "10")
	type answer struct {
		out billing.DebitOutcome
		err error
	}
	var mu sync.Mutex
	answers := map[string][]answer{}
	var wg sync.WaitGroup
	call := func(acc, key, amt string) {
		defer wg.Done()
		out, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: c(amt), IdempotencyKey: key})
		mu.Lock()
		answers[acc+"/"+key] = append(answers[acc+"/"+key], answer{out, err})
		mu.Unlock()
	}
	for i := 0; i < 20; i++ {
		wg.Add(4)
		go call(rich, "dup", "3")                 // one key, 20 times
		go call(rich, fmt.Sprintf("r%d", i), "1") // 20 distinct charges
		go call(poor, fmt.Sprintf("p%d", i), "4") // only 2 of 20 fit
		go call(poor, fmt.Sprintf("p%d", i), "4") // and each is sent twice
	}
	wg.Wait()
	dup := answers[rich+"/dup"]
	first := ""
	charged := 0
	for _, a := range dup {
		if a.err != nil {
			t.Fatalf("dup: %v", a.err)
		}
		if first == "" {
			first = a.out.Debit.ID
		}
		if a.out.Debit.ID != first {
			t.Fatalf("one key, two debits: %s %s", first, a.out.Debit.ID)
		}
		if !a.out.Replayed {
			charged++
		}
	}
	if charged != 1 {
		t.Fatalf("dup key charged %d times", charged)
	}
	okPoor := 0
	for i := 0; i < 20; i++ {
		as := answers[fmt.Sprintf("%s/p%d", poor, i)]
		if len(as) != 2 {
			t.Fatalf("p%d: %d answers", i, len(as))
		}
		if (as[0].err == nil) != (as[1].err == nil) {
			t.Fatalf("p%d: one charged, one refused: %v / %v", i, as[0].err, as[1].err)
		}
		if as[0].err == nil {
			okPoor++
		} else if billing.ErrorCode(as[0].err) != billing.EInsufficient {
			t.Fatalf("p%d: %v", i, as[0].err)
		}
	}
	if okPoor != 2 {
		t.Fatalf("poor account: %d charges of 4 on 10 credits", okPoor)
	}
	if b := e.balance(rich); b.Balance != c("977") {
		t.Fatalf("rich balance %s, want 1000 - 3 - 20", b.Balance)
	}
	if b := e.balance(poor); b.Balance != c("2") {
		t.Fatalf("poor balance %s", b.Balance)
	}
}

// A request whose caller gave up before its batch was taken is not charged; a request
// cancelled while its batch commits is charged once, and its retry replays that charge.
func TestGroupCommitCancelledRequest(t *testing.T) {
	e := newEnv(t)
	startGC(t, e, 1, 0)
	acc := e.account()
	e.grant(acc, "100")
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.svc.Debit(gone, billing.DebitInput{AccountID: acc, Amount: c("5"), IdempotencyKey: "gone"}); err == nil {
		t.Fatal("a cancelled request was answered as charged")
	}
	if _, err := e.store.DebitByKey(context.Background(), acc, "gone"); billing.ErrorCode(err) != billing.ENotFound {
		t.Fatalf("cancelled before its batch, yet charged: %v", err)
	}
	// Cancel while in flight: whatever the race, the retry must agree with the ledger.
	for i := 0; i < 20; i++ {
		key := fmt.Sprintf("race-%d", i)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(time.Duration(i%4) * 100 * time.Microsecond); cancel() }()
		_, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: c("1"), IdempotencyKey: key})
		_, stored := e.store.DebitByKey(context.Background(), acc, key)
		if err == nil && stored != nil {
			t.Fatalf("%s: answered charged but not stored", key)
		}
		retry, err := e.svc.Debit(context.Background(), billing.DebitInput{AccountID: acc, Amount: c("1"), IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		if stored == nil && !retry.Replayed {
			t.Fatalf("%s: charged in flight, retry charged again", key)
		}
	}
	if b := e.balance(acc); b.Balance != c("80") {
		t.Fatalf("balance %s, want 80 (20 charges of 1)", b.Balance)
	}
}

// Reservations share transactions with debits: concurrent holds never overbook, and one key
// sent many times holds once.
func TestGroupCommitReservations(t *testing.T) {
	e := newEnv(t)
	startGC(t, e, 2, 5*time.Millisecond)
	ctx := context.Background()
	acc := e.account()
	e.grant(acc, "105") // ten holds of 10 and the hold of 1 fit in any order; an eleventh 10 never
	var wg sync.WaitGroup
	var mu sync.Mutex
	held, refused := 0, 0
	ids := map[string]bool{}
	for i := 0; i < 30; i++ {
		wg.Add(2)
		go func(i int) {
			defer wg.Done()
			_, err := e.svc.Reserve(ctx, billing.ReserveInput{AccountID: acc, Amount: c("10"), TTL: time.Hour, IdempotencyKey: fmt.Sprintf("h%d", i)})
			mu.Lock()
			defer mu.Unlock()
			switch billing.ErrorCode(err) {
			case "":
				held++
			case billing.EInsufficient:
				refused++
			default:
				t.Errorf("reserve: %v", err)
			}
		}(i)
		go func() {
			defer wg.Done()
			r, err := e.svc.Reserve(ctx, billing.ReserveInput{AccountID: acc, Amount: c("1"), TTL: time.Hour, IdempotencyKey: "same"})
			if err != nil {
				t.Errorf("same key: %v", err)
				return
			}
			mu.Lock()
			ids[r.Hold.ID] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(ids) != 1 {
		t.Fatalf("one key made %d holds", len(ids))
	}
	if held != 10 || refused != 20 {
		t.Fatalf("held %d, refused %d; want 10 holds of 10 beside the hold of 1 on 105", held, refused)
	}
	if b := e.balance(acc); b.Reserved != c("101") || b.Available != c("4") {
		t.Fatalf("reserved %s available %s", b.Reserved, b.Available)
	}
}

// A debit that makes the database fail its batch (here, bytes PostgreSQL refuses as text) is
// answered with that error alone: its neighbours are retried one by one and charged.
func TestGroupCommitPoisonDebitSparesItsNeighbours(t *testing.T) {
	e := newEnv(t)
	startGC(t, e, 1, 20*time.Millisecond) // one shard and a long window: all land in one batch
	ctx := context.Background()
	acc := e.account()
	e.grant(acc, "100")
	var wg sync.WaitGroup
	errs := make([]error, 11)
	for i := 0; i < 11; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			in := billing.DebitInput{AccountID: acc, Amount: c("1"), IdempotencyKey: fmt.Sprintf("n%d", i)}
			if i == 5 {
				in.Usage = &billing.UsageEvent{Action: "bad\xffbytes", OccurredAt: time.Now()}
			}
			_, errs[i] = e.svc.Debit(ctx, in)
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 5) != (err != nil) {
			t.Errorf("debit %d: %v", i, err)
		}
	}
	if b := e.balance(acc); b.Balance != c("90") {
		t.Fatalf("balance %s, want 90 (ten good debits)", b.Balance)
	}
}

// Single debits (one lane) and multi-event batches (the other, with two shards) spend one
// account at the same time, with more demand than credit: every key is charged at most once,
// the account never goes below zero, and what was charged is exactly what the answers say.
func TestGroupCommitLanesShareAnAccount(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	wait := e.svc.StartGroupCommit(ctx, billing.GroupCommitConfig{Shards: 1, BulkShards: 2, MaxBatch: 64})
	t.Cleanup(func() { cancel(); wait() })
	acc, other := e.account(), e.account()
	e.grant(acc, "150")
	e.grant(other, "1000")
	var charged atomic.Int64 // millicredits charged to acc, summed from the answers
	var wg sync.WaitGroup
	record := func(outs []billing.DebitOutcome, ins []billing.DebitInput) {
		for i, o := range outs {
			switch {
			case o.Err == nil && !o.Replayed && ins[i].AccountID == acc:
				charged.Add(int64(o.Debit.Amount))
			case o.Err != nil && billing.ErrorCode(o.Err) != billing.EInsufficient:
				t.Errorf("debit %s: %v", ins[i].IdempotencyKey, o.Err)
			}
		}
	}
	for g := 0; g < 8; g++ {
		wg.Add(2)
		go func(g int) { // single debits, each sent twice
			defer wg.Done()
			for i := 0; i < 10; i++ {
				in := billing.DebitInput{AccountID: acc, Amount: c("1"), IdempotencyKey: fmt.Sprintf("s%d-%d", g, i)}
				for range 2 {
					out, err := e.svc.Debit(ctx, in)
					if billing.ErrorCode(err) == billing.EInsufficient {
						continue
					}
					record([]billing.DebitOutcome{out}, []billing.DebitInput{in})
				}
			}
		}(g)
		go func(g int) { // batches over both accounts, each sent twice
			defer wg.Done()
			for i := 0; i < 5; i++ {
				var ins []billing.DebitInput
				for j := 0; j < 6; j++ {
					ins = append(ins, billing.DebitInput{AccountID: acc, Amount: c("1"), IdempotencyKey: fmt.Sprintf("b%d-%d-%d", g, i, j)},
						billing.DebitInput{AccountID: other, Amount: c("1"), IdempotencyKey: fmt.Sprintf("o%d-%d-%d", g, i, j)})
				}
				for range 2 {
					outs, err := e.svc.DebitBatch(ctx, ins)
					if err != nil {
						t.Errorf("batch: %v", err)
						return
					}
					record(outs, ins)
				}
			}
		}(g)
	}
	wg.Wait()
	// 80 singles and 240 batched debits of 1 credit each asked for 320 credits; 150 exist.
	if got := billing.Credits(charged.Load()); got != c("150") {
		t.Fatalf("answers charged %s to the account, want all of its 150", got)
	}
	if b := e.balance(acc); b.Balance != 0 {
		t.Fatalf("balance %s, want 0", b.Balance)
	}
	if b := e.balance(other); b.Balance != c("760") {
		t.Fatalf("other account: balance %s, want 760 (240 charged once each)", b.Balance)
	}
}
