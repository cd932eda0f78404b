package billing

import (
	"context"
	"sync"
	"sync/atomic"
)

// LedgerStats count how debit batches were committed (for /metrics).
type LedgerStats struct {
	LockFree  atomic.Int64 // batches committed with one statement against cached accounts
	Locked    atomic.Int64 // batches that locked and read their accounts first
	Fallbacks atomic.Int64 // lock-free attempts refused (stale, replayed key, or more to do) and redone under locks
	// AlertFallbacks count the batches sent to the locked path because they fire or resolve
	// an alert (once per crossing), which the lock-free statement does not write.
	AlertFallbacks atomic.Int64
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
	grants []Grant     // remaining > 0
	rules  []AlertRule // enabled alert rules with their state, as of acc.Version
}

// ledgerCacheMax bounds the memory: when full, the cache starts over (entries come back on
// their account's next locked batch).
const ledgerCacheMax = 100_000

// get copies the entries of ids (sorted, unique); ok is false unless every one is cached.
func (c *ledgerCache) get(ids []string) (accs []Account, grants []Grant, rules []AlertRule, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	accs = make([]Account, 0, len(ids))
	for _, id := range ids {
		e := c.m[id]
		if e == nil {
			return nil, nil, nil, false
		}
		accs = append(accs, e.acc)
		grants = append(grants, e.grants...)
		rules = append(rules, e.rules...)
	}
	return accs, grants, rules, true
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
		e := &ledgerEntry{acc: acc, rules: st.rules}
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

// load records accounts read without a batch (WarmLedgerCache): their rows as read, so
// their versions are the ones in the database, and their live grants. An account cached
// already keeps its entry unless the one read is newer.
func (c *ledgerCache) load(accs []Account, grants []Grant, rules []AlertRule) {
	byAccount := make(map[string][]Grant, len(accs))
	for _, g := range grants {
		if g.Remaining > 0 {
			byAccount[g.AccountID] = append(byAccount[g.AccountID], g)
		}
	}
	rulesOf := make(map[string][]AlertRule, len(accs))
	for _, r := range rules {
		rulesOf[r.AccountID] = append(rulesOf[r.AccountID], r)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m)+len(accs) > ledgerCacheMax {
		c.m = make(map[string]*ledgerEntry, len(accs))
	}
	for _, a := range accs {
		if old := c.m[a.ID]; old != nil && old.acc.Version >= a.Version {
			continue
		}
		c.m[a.ID] = &ledgerEntry{acc: a, grants: byAccount[a.ID], rules: rulesOf[a.ID]}
	}
}

// WarmLedgerCache fills the debit path's caches (the ledger cache and the routing snapshots)
// with the accounts that moved credits most recently, up to max of them, so that a server
// that just started takes its first debits without locking and reading every account first.
// Measured with 3,000 debits/s sent at a fresh server (and the caches' loads shared, see
// flight): requests dropped in its first second went from ~1,900 to ~200 and the slowest
// answer from ~0.9 s to ~0.16 s. It returns how many accounts it loaded.
func (s *Service) WarmLedgerCache(ctx context.Context, max int) (int, error) {
	if s.ledgerLocked || max <= 0 {
		return 0, nil
	}
	accs, grants, err := s.store.RecentLedgerAccounts(ctx, max*5, max)
	if err != nil {
		return 0, err
	}
	// Rules are read after the accounts: a rule changed in between bumped the version, so the
	// entry is stale (refused at commit) rather than pairing a new version with old rules.
	ids := make([]string, len(accs))
	for i := range accs {
		ids[i] = accs[i].ID
	}
	rules, err := s.store.AlertRulesOf(ctx, ids)
	if err != nil {
		return 0, err
	}
	s.ledger.load(accs, grants, rules)
	s.snapshotsOf(accs)
	return len(accs), nil
}
