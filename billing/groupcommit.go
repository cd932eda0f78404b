package billing

import (
	"context"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"
)

// GroupCommit coalesces concurrent single debits into shared transactions. Requests are
// sharded by account, so every single debit of one account goes through one queue: a hot account
// then gets one transaction for everything that queued while the previous one committed,
// instead of one lock hand-off (and WAL flush) per debit. A request is answered only after
// its transaction commits, so nothing acknowledged can be lost.
type GroupCommit struct {
	stats    GroupCommitStats
	svc      *Service
	shards   []chan *pendingDebit // single debits and holds
	bulk     []chan *pendingDebit // the events of multi-event requests
	maxBatch int
	window   time.Duration
	wg       sync.WaitGroup
}

type pendingDebit struct {
	at   time.Time
	ctx  context.Context
	op   ledgerOp
	done chan opResult
}

func (p *pendingDebit) account() string {
	if p.op.debit != nil {
		return p.op.debit.AccountID
	}
	return p.op.reserve.AccountID
}

// GroupCommitStats count the batcher's work since it started (for /metrics).
type GroupCommitStats struct {
	Transactions atomic.Int64
	Ops          atomic.Int64
	TxNanos      atomic.Int64 // time spent in transactions
	WaitNanos    atomic.Int64 // time ops spent queued before their transaction began
}

// GroupCommitStats returns the running batcher's counters, or nil when it is off.
func (s *Service) GroupCommitStats() *GroupCommitStats {
	if gc := s.gc.Load(); gc != nil {
		return &gc.stats
	}
	return nil
}

// GroupCommitConfig tunes the batcher.
type GroupCommitConfig struct {
	// Shards is how many transactions of single debits and holds may run at once (accounts
	// are spread over them).
	Shards int
	// BulkShards is how many transactions of multi-event requests (usage batches) may run at
	// once, beside those of single debits. Such requests bring their own batch, so running
	// two side by side uses both cores, where single debits gain more from fewer, bigger
	// transactions. Both lanes write the same accounts safely: each transaction locks, or
	// version-checks, every account it writes.
	BulkShards int
	// MaxBatch bounds the debits of one transaction.
	MaxBatch int
	// Window is how long a small batch waits for company; 0 takes what is queued.
	Window time.Duration
}

// StartGroupCommit routes single debits through the batcher until ctx ends; it returns a
// function that waits for the workers to finish the batches in hand.
func (s *Service) StartGroupCommit(ctx context.Context, cfg GroupCommitConfig) (wait func()) {
	if cfg.Shards <= 0 {
		cfg.Shards = 4
	}
	if cfg.BulkShards <= 0 {
		cfg.BulkShards = cfg.Shards
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 512
	}
	gc := &GroupCommit{svc: s, maxBatch: cfg.MaxBatch, window: cfg.Window}
	lane := func(n int) []chan *pendingDebit {
		var chs []chan *pendingDebit
		for i := 0; i < n; i++ {
			ch := make(chan *pendingDebit, cfg.MaxBatch*4)
			chs = append(chs, ch)
			gc.wg.Add(1)
			go gc.run(ctx, ch)
		}
		return chs
	}
	gc.shards, gc.bulk = lane(cfg.Shards), lane(cfg.BulkShards)
	s.gc.Store(gc)
	return func() { s.gc.Store(nil); gc.wg.Wait() }
}

func shardOf(accountID string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(accountID))
	return int(h.Sum32() % uint32(n))
}

// submit queues one debit and waits for its answer (or for the caller to give up: a debit
// already taken into a transaction still commits, and a retry with its key replays it).
func (gc *GroupCommit) submit(ctx context.Context, in DebitInput) (DebitOutcome, error) {
	r, err := gc.submitOp(ctx, ledgerOp{debit: &in})
	return r.debit, err
}

func (gc *GroupCommit) submitOp(ctx context.Context, op ledgerOp) (opResult, error) {
	p := &pendingDebit{at: time.Now(), ctx: ctx, op: op, done: make(chan opResult, 1)}
	select {
	case gc.shards[shardOf(p.account(), len(gc.shards))] <- p:
	case <-ctx.Done():
		return opResult{}, ctx.Err()
	}
	select {
	case out := <-p.done:
		return out, nil
	case <-ctx.Done():
		return opResult{}, ctx.Err()
	}
}

// submitMany queues debits over the bulk lane's shards and waits for every answer; debits of
// one shard share transactions with whatever else is queued there.
func (gc *GroupCommit) submitMany(ctx context.Context, ins []DebitInput) ([]DebitOutcome, error) {
	ps := make([]*pendingDebit, len(ins))
	for i := range ins {
		ps[i] = &pendingDebit{at: time.Now(), ctx: ctx, op: ledgerOp{debit: &ins[i]}, done: make(chan opResult, 1)}
		select {
		case gc.bulk[shardOf(ins[i].AccountID, len(gc.bulk))] <- ps[i]:
		case <-ctx.Done():
			for _, p := range ps[:i] { // what is queued is answered; wait so none is left behind
				<-p.done
			}
			return nil, ctx.Err()
		}
	}
	outs := make([]DebitOutcome, len(ins))
	for i, p := range ps {
		r := <-p.done
		outs[i] = r.debit
	}
	return outs, nil
}

func (gc *GroupCommit) run(ctx context.Context, ch chan *pendingDebit) {
	defer gc.wg.Done()
	for {
		var first *pendingDebit
		select {
		case first = <-ch:
		case <-ctx.Done():
			gc.drain(ch)
			return
		}
		gc.commit(gc.collect(first, ch))
	}
}

// collect takes what is queued behind first, up to maxBatch, waiting up to window for more.
func (gc *GroupCommit) collect(first *pendingDebit, ch chan *pendingDebit) []*pendingDebit {
	batch := []*pendingDebit{first}
	var deadline <-chan time.Time
	if gc.window > 0 {
		t := time.NewTimer(gc.window)
		defer t.Stop()
		deadline = t.C
	}
	for len(batch) < gc.maxBatch {
		select {
		case p := <-ch:
			batch = append(batch, p)
			continue
		default:
		}
		if deadline == nil {
			break
		}
		select {
		case p := <-ch:
			batch = append(batch, p)
			continue
		case <-deadline:
		}
		break
	}
	return batch
}

// commit runs one transaction for the batch and answers every request in it.
func (gc *GroupCommit) commit(batch []*pendingDebit) {
	live := batch[:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.done <- opResult{debit: DebitOutcome{Err: err}, holdErr: err} // gave up before it was taken: nothing charged
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	ops := make([]ledgerOp, len(live))
	for i, p := range live {
		ops[i] = p.op
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	for _, p := range live {
		gc.stats.WaitNanos.Add(int64(start.Sub(p.at)))
	}
	res, err := gc.svc.applyOps(ctx, ops)
	gc.stats.Transactions.Add(1)
	gc.stats.Ops.Add(int64(len(ops)))
	gc.stats.TxNanos.Add(int64(time.Since(start)))
	if err != nil && len(live) > 1 {
		// The transaction failed as a whole (nothing of it was written): run each op alone, so
		// a database error caused by one of them never fails its neighbours.
		for _, p := range live {
			gc.commit([]*pendingDebit{p})
		}
		return
	}
	for i, p := range live {
		if err != nil {
			p.done <- opResult{debit: DebitOutcome{Err: err}, holdErr: err}
			continue
		}
		p.done <- res[i]
	}
}

// drain answers whatever is still queued at shutdown by committing it.
func (gc *GroupCommit) drain(ch chan *pendingDebit) {
	for {
		select {
		case p := <-ch:
			gc.commit(gc.collect(p, ch))
		default:
			return
		}
	}
}
