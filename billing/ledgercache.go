package billing

import (
	"sync"
	"sync/atomic"
)

// LedgerStats count how debit batches were committed (for /metrics).
type LedgerStats struct {
	LockFree  atomic.Int64 // batches committed with one statement against cached accounts
	Locked    atomic.Int64 // batches that locked and read their accounts first
	Fallbacks atomic.Int64 // lock-free attempts refused (stale, replayed key, or more to do) and redone under locks
}

// LedgerStats returns the running counters.
func (s *Service) LedgerStats() *LedgerStats { return &s.ledgerStats }

// ledgerCache keeps, for accounts the debit path used recently, the account row and its live
// grants as they were after this process's last write. A batch whose accounts are all here is
// decided without reading or locking anything and written with one statement that applies
// only if every account is still at the cached version (CommitLedger); anything else that
// changed an account (a grant, a hold, another instance) bumped its version, so a stale entry
// costs one refused statement and a retry under locks, never a wrong decision.
type ledgerCache struct {
	mu sync.Mutex
	m  map[string]*ledgerEntry
}

type ledgerEntry struct {
	acc    Account
	grants []Grant // remaining > 0
}

// ledgerCacheMax bounds the memory: when full, the cache starts over (entries come back on
// their account's next locked batch).
const ledgerCacheMax = 100_000

// get copies the entries of ids (sorted, unique); ok is false unless every one is cached.
func (c *ledgerCache) get(ids []string) (accs []Account, grants []Grant, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	accs = make([]Account, 0, len(ids))
	for _, id := range ids {
		e := c.m[id]
		if e == nil {
			return nil, nil, false
		}
		accs = append(accs, e.acc)
		grants = append(grants, e.grants...)
	}
	return accs, grants, true
}

// put records the state of the accounts of a committed batch: all of them were rewritten
// (lock-free) or the changed ones (under lock), and each rewrite bumped the version.
func (c *ledgerCache) put(b *book, lockFree bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m)+len(b.accounts) > ledgerCacheMax {
		c.m = make(map[string]*ledgerEntry, len(b.accounts))
	}
	for id, st := range b.accounts {
		acc := st.acc
		if st.dirty || lockFree {
			acc.Version++ // the trigger's bump for this batch's update of the row
		}
		if old := c.m[id]; old != nil && old.acc.Version > acc.Version {
			continue // a later batch already recorded a newer state
		}
		e := &ledgerEntry{acc: acc}
		for _, g := range st.grants {
			if g.Remaining > 0 {
				e.grants = append(e.grants, *g)
			}
		}
		c.m[id] = e
	}
}

func (c *ledgerCache) drop(ids []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		delete(c.m, id)
	}
}
