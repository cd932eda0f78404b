package billing

import (
	"context"
	"fmt"
	"sync"
)

// coldLoader reads the accounts whose snapshot missed (by id) for the ledger cache, several
// at a time. Over a customer base larger than what traffic has touched yet (a fresh process
// over a million accounts), most requests name an account read by nobody before: read one by
// one, each cost a round trip for its snapshot and the batch that carried it three more for
// its grants and rules (readUncached). Here the misses that arrive while reads are in flight
// wait for the next read and share it, the way debits share a commit (GroupCommit), and what
// it reads (the account, its live grants and its rules, Store.LedgerAccounts) goes to the
// ledger cache, so the debit is then decided lock-free without another read. A miss that
// finds a read slot free goes at once: an idle server adds no wait.
type coldLoader struct {
	mu      sync.Mutex
	running int                  // reads in flight
	pending map[string]*coldCall // misses waiting for the next read
	calls   map[string]*coldCall // every miss waiting, by id, pending or being read
}

type coldCall struct {
	done chan struct{}
	acc  Account
	err  error
}

// coldReads is how many cold reads run at once: one read gathers the misses of its
// predecessor's round trip, and a second overlaps the Go work of one with the database work
// of the other.
const coldReads = 1

// coldBatch bounds the ids of one read; more wait for the next.
const coldBatch = 256

// coldAccount returns account id as the database has it now, recorded in the ledger cache.
// Errors: not_found.
func (s *Service) coldAccount(ctx context.Context, id string) (Account, error) {
	l := &s.cold
	l.mu.Lock()
	c, ok := l.calls[id]
	if !ok {
		if l.calls == nil {
			l.calls, l.pending = map[string]*coldCall{}, map[string]*coldCall{}
		}
		c = &coldCall{done: make(chan struct{})}
		l.calls[id], l.pending[id] = c, c
	}
	var batch map[string]*coldCall
	if l.running < coldReads && len(l.pending) > 0 {
		l.running++
		batch = l.take()
	}
	l.mu.Unlock()
	if batch != nil {
		go s.coldRead(batch)
	}
	select {
	case <-c.done:
		return c.acc, c.err
	case <-ctx.Done():
		return Account{}, ctx.Err()
	}
}

// take moves up to coldBatch pending misses into a read. The caller holds l.mu.
func (l *coldLoader) take() map[string]*coldCall {
	if len(l.pending) <= coldBatch {
		b := l.pending
		l.pending = map[string]*coldCall{}
		return b
	}
	b := make(map[string]*coldCall, coldBatch)
	for id, c := range l.pending {
		if len(b) == coldBatch {
			break
		}
		b[id] = c
		delete(l.pending, id)
	}
	return b
}

// coldRead reads batch, answers its callers, and goes on with the misses that arrived
// meanwhile until none wait. It runs detached from any request: a caller that gives up does
// not fail the others.
func (s *Service) coldRead(batch map[string]*coldCall) {
	l := &s.cold
	for batch != nil {
		s.coldReadOnce(batch)
		l.mu.Lock()
		for id, c := range batch {
			if l.calls[id] == c {
				delete(l.calls, id)
			}
		}
		batch = nil
		if len(l.pending) > 0 {
			batch = l.take()
		} else {
			l.running--
		}
		l.mu.Unlock()
	}
}

func (s *Service) coldReadOnce(batch map[string]*coldCall) {
	answered := false
	defer func() {
		r := recover() // this goroutine is outside the request's recovery
		if answered {
			return
		}
		err := fmt.Errorf("billing: cold read panicked: %v", r)
		for _, c := range batch {
			select {
			case <-c.done:
			default:
				c.err = err
				close(c.done)
			}
		}
	}()
	ids := make([]string, 0, len(batch))
	for id := range batch {
		ids = append(ids, id)
	}
	ids = uniqueSorted(ids)
	ctx, cancel := context.WithTimeout(context.Background(), flightTimeout)
	defer cancel()
	epoch := s.ledger.epochNow()
	accs, grants, rules, err := s.store.LedgerAccounts(ctx, ids)
	if err == nil && len(accs) > 0 {
		s.ledgerStats.ColdReads.Add(1)
		s.ledger.load(accs, grants, rules, true, epoch)
	}
	found := make(map[string]Account, len(accs))
	for _, a := range accs {
		found[a.ID] = a
	}
	for id, c := range batch {
		a, ok := found[id]
		switch {
		case err != nil:
			c.err = err
		case !ok:
			c.err = Errorf(ENotFound, "No account %s.", id)
		default:
			c.acc = a
		}
		close(c.done)
	}
	answered = true
}
