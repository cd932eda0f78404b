package billing

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// LedgerStats count how debit batches were committed (for /metrics).
type LedgerStats struct {
	LockFree  atomic.Int64 // batches committed with one statement against cached accounts
	Locked    atomic.Int64 // batches that locked and read their accounts first
	Fallbacks atomic.Int64 // lock-free attempts refused (stale, replayed key, or more to do) and redone under locks
	// AlertFallbacks count the batches sent to the locked path because they fire or resolve
	// an alert (once per crossing), which the lock-free statement does not write.
	AlertFallbacks atomic.Int64
	// ColdReads count the reads of a batch's uncached accounts (without locks) that let it
	// be decided lock-free.
	ColdReads atomic.Int64
}

// LedgerStats returns the running counters.
func (s *Service) LedgerStats() *LedgerStats { return &s.ledgerStats }

// ledgerCache keeps, for accounts the debit path used recently, the account row and its live
// grants as they were after this process's last write. An account found here is decided
// without reading or locking anything and written with one statement that applies only if
// the account is still at the cached version (CommitLedger); anything else that changed an
// account (a grant, a hold, another instance) bumped its version, so a stale entry costs one
// refused statement and a retry under locks, never a wrong decision. It holds at most max
// accounts (Options.LedgerCacheAccounts) and evicts the least recently used one by one
// (clockMap), so a customer base larger than the bound keeps its busy accounts cached.
type ledgerCache struct {
	mu  sync.RWMutex // read-locked by routing and cache checks, which run beside every request
	max int
	m   *clockMap[ledgerEntry]
	// epoch counts the times change notifications were lost (ForgetAccounts): an entry
	// recorded in an earlier epoch may have missed a settings change, so it is not used for
	// routing (routingAccount), only for version-checked decisions.
	epoch uint64
	// live says the change listener is subscribed (EventsLive, until EventsLost): every
	// settings change since the epoch began is announced, so an entry of this epoch routes
	// without an age limit. Without a listener entries route for accountCacheTTL at most.
	live bool
	// absent holds the announced versions of changed accounts that were not cached when the
	// change was announced (a tombstone in m would evict a live entry for nothing): a read of
	// such an account in flight then must not record an older state either. Bounded: when
	// full it is emptied and the epoch moves on, so nothing read before routes.
	absent map[string]int64
	// seq counts the changes made by this instance (forget with version 0: announced later,
	// at a version not known yet), and local holds each changed account's last seq: a state
	// read or committed before the change (its mark's seq is lower) is not recorded, even
	// when it ends before the change's notification lays its tombstone. Bounded like absent.
	seq   uint64
	local map[string]uint64
}

// changedSince says whether this instance changed id after mark was taken. The caller holds
// c.mu.
func (c *ledgerCache) changedSince(id string, m cacheMark) bool {
	v, ok := c.local[id]
	return ok && v > m.seq
}

// cacheMark is where the cache stood when a state was about to be read or committed: its
// epoch, and how many local changes it had heard of (ledgerCache.seq).
type cacheMark struct{ epoch, seq uint64 }

// maxAbsentChanges bounds ledgerCache.absent (and ledgerCache.local).
const maxAbsentChanges = 1 << 16

// stale says whether a state of id at version is older than a change announced for it while
// it was not cached. Once a state as new is recorded, the entry guards it and the change is
// dropped from absent (record). The caller holds c.mu for writing.
func (c *ledgerCache) stale(id string, version int64) bool {
	v, ok := c.absent[id]
	return ok && version < v
}

// record puts e under id; the caller checked it is not stale.
func (c *ledgerCache) record(m *clockMap[ledgerEntry], id string, e ledgerEntry) {
	m.put(id, e)
	delete(c.absent, id)
}

type ledgerEntry struct {
	// epoch is the cache's epoch when the state was read (or, for a commit, when its
	// statement was sent), not when it was recorded: a read that straddles lost
	// notifications is of the older epoch, so it never routes.
	epoch uint64
	at    int64 // cacheClock when recorded: without a listener, routing uses it for accountCacheTTL at most
	// tomb marks an account whose settings changed at acc.Version (ForgetAccount): nothing
	// older may be recorded again (a batch or read that began before the change and ends
	// after its notification), and it is not an account to decide or route with.
	tomb   bool
	acc    Account
	grants []Grant     // remaining > 0
	rules  []AlertRule // enabled alert rules with their state, as of acc.Version
}

// cachedGrant keeps what deciding a debit reads of a grant (its order, usability, remaining
// and expiry) and drops the rest (payment references, key, actor, reason) to save memory:
// a cached grant is only ever written back as a GrantChange.
func cachedGrant(g Grant) Grant {
	return Grant{ID: g.ID, AccountID: g.AccountID, Source: g.Source, Amount: g.Amount, Remaining: g.Remaining,
		Priority: g.Priority, EffectiveAt: g.EffectiveAt, ExpiresAt: g.ExpiresAt, ExpiredAt: g.ExpiredAt, CreatedAt: g.CreatedAt}
}

// cachedRules keeps what a lock-free decision evaluates of the rules (alertDue: enabled, on the
// debit path), without their ids, channels and times: firing or resolving one goes to the
// locked path, which reads the rules whole. A cold read gets no more from the account's row.
func cachedRules(rules []AlertRule) []AlertRule {
	var out []AlertRule
	for i := range rules {
		if r := &rules[i]; r.Enabled && r.onDebitPath() {
			out = append(out, AlertRule{AccountID: r.AccountID, Kind: r.Kind, Threshold: r.Threshold,
				Enabled: true, Firing: r.Firing})
		}
	}
	return out
}

// DefaultLedgerCacheAccounts is the ledger cache's bound when Options.LedgerCacheAccounts is 0.
const DefaultLedgerCacheAccounts = 1_000_000

// entries returns the map, made on first use. The caller holds c.mu.
func (c *ledgerCache) entries() *clockMap[ledgerEntry] {
	if c.m == nil {
		if c.max <= 0 {
			c.max = DefaultLedgerCacheAccounts
		}
		c.m = newClockMap[ledgerEntry](c.max)
		c.m.onEvict = func(id string, e *ledgerEntry) {
			if e.tomb { // its change still guards reads in flight
				c.noteAbsent(id, e.acc.Version)
			}
		}
	}
	return c.m
}

// get copies the entries of the cached accounts among ids (sorted, unique) and lists the
// others in missing.
func (c *ledgerCache) get(ids []string) (accs []Account, grants []Grant, rules []AlertRule, missing []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.entries()
	accs = make([]Account, 0, len(ids))
	for _, id := range ids {
		e, ok := m.get(id)
		if !ok || e.tomb {
			missing = append(missing, id)
			continue
		}
		accs = append(accs, e.acc)
		grants = append(grants, e.grants...)
		rules = append(rules, e.rules...)
	}
	return accs, grants, rules, missing
}

// cached says, for each of ids, whether it is cached (without marking it used).
func (c *ledgerCache) cached(ids []string) map[string]bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[string]bool, len(ids))
	if c.m == nil {
		return out
	}
	for _, id := range ids {
		if e, ok := c.m.peek(id); ok && !e.tomb {
			out[id] = true
		}
	}
	return out
}

// memberLimited says whether the cached account has member limits (false when not cached).
func (c *ledgerCache) memberLimited(id string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.m == nil {
		return false
	}
	e, ok := c.m.peek(id)
	return ok && e.acc.MemberLimits
}

// len is how many accounts are cached.
func (c *ledgerCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries().len()
}

// mark is the cacheMark to give a state about to be read or committed.
func (c *ledgerCache) mark() cacheMark {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return cacheMark{epoch: c.epoch, seq: c.seq}
}

// put records the state of the accounts of a committed batch: all of them were rewritten
// (lock-free) or the changed ones (under lock), and each rewrite bumped the version. epoch
// is mark from before the batch read (locked) or sent its statement (lock-free).
func (c *ledgerCache) put(b *book, lockFree bool, mk cacheMark) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.entries()
	for id, st := range b.accounts {
		acc := st.acc
		if st.dirty || lockFree {
			acc.Version++ // the trigger's bump for this batch's update of the row
		}
		acc.Version += st.flips // and one for each rewrite of its rules' copy
		if old, ok := m.peek(id); ok && old.acc.Version > acc.Version {
			continue // a later batch already recorded a newer state
		}
		if c.stale(id, acc.Version) || c.changedSince(id, mk) {
			continue
		}
		e := ledgerEntry{epoch: mk.epoch, at: cacheClock(), acc: acc, rules: cachedRules(st.rules)}
		for _, g := range st.grants {
			if g.Remaining > 0 {
				e.grants = append(e.grants, cachedGrant(*g))
			}
		}
		c.record(m, id, e)
	}
}

// routingAccount returns the cached account id, if recorded since notifications were last
// lost: every settings change since was announced and dropped it (ForgetAccount), so it is
// as current as a snapshot (AccountSnapshot uses it when the snapshot expired).
func (c *ledgerCache) routingAccount(id string) (Account, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.m == nil {
		return Account{}, false
	}
	e, ok := c.m.peek(id)
	// The epoch keeps out copies from before lost notifications; the age bounds how stale a
	// copy can be when a change was missed without a loss being noticed (a late re-insert, a
	// listener that never subscribed), as snapshots are bounded by their TTL. Busy accounts
	// are re-recorded by every commit, so they stay routable from memory.
	if !ok || e.tomb || e.epoch != c.epoch || (!c.live && cacheClock()-e.at > int64(accountCacheTTL)) {
		return Account{}, false
	}
	return e.acc, true
}

// forget replaces a cached account's entry with a tombstone at version, the version its
// announced change produced, or notes the version of an account not cached (absent). With
// version 0 (a local change, announced later) it only removes a live entry: a tombstone laid
// by the notification already stays.
func (c *ledgerCache) forget(id string, version int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.entries()
	old, ok := m.peek(id)
	switch {
	case version <= 0:
		c.noteLocal(id)
		if ok && !old.tomb {
			m.remove(id)
		}
	case ok && old.acc.Version > version:
		// a state read after that change is recorded already
	case ok:
		m.put(id, ledgerEntry{epoch: c.epoch, at: cacheClock(), acc: Account{ID: id, Version: version}, tomb: true})
	default:
		c.noteAbsent(id, version)
	}
}

// noteAbsent records a change of an account not cached (or whose tombstone is evicted). The
// caller holds c.mu for writing.
func (c *ledgerCache) noteAbsent(id string, version int64) {
	if len(c.absent) >= maxAbsentChanges {
		c.absent = nil
		c.epoch++ // a read in flight of a change forgotten here never routes
	}
	if c.absent == nil {
		c.absent = make(map[string]int64)
	}
	c.absent[id] = max(c.absent[id], version)
}

// noteLocal records a change of id by this instance. The caller holds c.mu for writing.
func (c *ledgerCache) noteLocal(id string) {
	if len(c.local) >= maxAbsentChanges {
		c.local = nil
		c.epoch++ // a read in flight of a change forgotten here never routes
	}
	if c.local == nil {
		c.local = make(map[string]uint64)
	}
	c.seq++
	c.local[id] = c.seq
}

// setLive records whether the change listener is subscribed.
func (c *ledgerCache) setLive(live bool) {
	c.mu.Lock()
	c.live = live
	c.mu.Unlock()
}

var cacheStart = time.Now()

// cacheClock is monotonic nanoseconds since the process started.
func cacheClock() int64 { return int64(time.Since(cacheStart)) }

// notificationsLost stops every entry recorded so far from serving routing, and the entries
// recorded from now on from routing beyond the TTL until the listener is live again.
func (c *ledgerCache) notificationsLost() {
	c.mu.Lock()
	c.epoch++
	c.live = false
	c.mu.Unlock()
}

func (c *ledgerCache) drop(ids []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.entries()
	for _, id := range ids {
		if e, ok := m.peek(id); ok && !e.tomb { // a tombstone stays: it guards a change
			m.remove(id)
		}
	}
}

// load records accounts read without a batch (a warm-up, or cold reads): their rows as read,
// so their versions are the ones in the database, and their live grants. An account cached
// already keeps its entry unless the one read is newer, or as new and read in as late an
// epoch: then it renews the entry's epoch and age, so that a copy that stopped routing (its
// epoch ended, or its age passed the TTL without a listener) routes again instead of sending
// every request for an unchanged account to the database. Without evict it only fills free
// room: a warm-up never evicts what the debit path cached. It returns how many it recorded.
// mk is mark from before the rows were read.
func (c *ledgerCache) load(accs []Account, grants []Grant, rules []AlertRule, evict bool, mk cacheMark) int {
	byAccount := make(map[string][]Grant, len(accs))
	for _, g := range grants {
		if g.Remaining > 0 {
			byAccount[g.AccountID] = append(byAccount[g.AccountID], cachedGrant(g))
		}
	}
	rulesOf := make(map[string][]AlertRule, len(accs))
	for _, r := range cachedRules(rules) {
		rulesOf[r.AccountID] = append(rulesOf[r.AccountID], r)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.entries()
	n := 0
	for _, a := range accs {
		old, ok := m.peek(a.ID)
		switch {
		case ok && !old.tomb && (old.acc.Version > a.Version || old.acc.Version == a.Version && old.epoch > mk.epoch):
			continue
		case ok && old.tomb && old.acc.Version > a.Version:
			continue // read before the change the tombstone stands for
		case c.stale(a.ID, a.Version) || c.changedSince(a.ID, mk):
			continue
		case !ok && !evict && m.full():
			continue
		}
		c.record(m, a.ID, ledgerEntry{epoch: mk.epoch, at: cacheClock(), acc: a, grants: byAccount[a.ID], rules: rulesOf[a.ID]})
		n++
	}
	return n
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
	mk := s.ledger.mark()
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
	rules, err := s.store.CachedAlertRulesOf(ctx, ids)
	if err != nil {
		return 0, err
	}
	s.ledger.load(accs, grants, rules, false, mk)
	s.snapshotsOf(accs)
	return len(accs), nil
}

// ledgerWarmPage is how many accounts one step of WarmLedgerCacheAll reads.
const ledgerWarmPage = 5000

// WarmLedgerCacheAll fills the free room of the ledger cache with every account, page by page
// in id order, until the cache is full, every account was read or ctx ends; it runs in the
// background once the server listens, so a fresh process over a large customer base decides
// most debits lock-free within seconds instead of locking each account once first. Entries
// cached by debits meanwhile are newer and kept (load). It returns how many it loaded.
func (s *Service) WarmLedgerCacheAll(ctx context.Context) (int, error) {
	if s.ledgerLocked {
		return 0, nil
	}
	n, after := 0, ""
	for ctx.Err() == nil && s.ledger.room() > 0 {
		start := time.Now()
		mk := s.ledger.mark()
		accs, grants, rules, err := s.store.LedgerAccountsAfter(ctx, after, ledgerWarmPage)
		if err != nil || len(accs) == 0 {
			return n, err
		}
		n += s.ledger.load(accs, grants, rules, false, mk)
		after = accs[len(accs)-1].ID
		// Paced to a quarter of one connection's time: unpaced, the fill competed with the
		// debits it serves (spread over 100,000 accounts measured 109/s beside it, 479/s
		// without it, on a loaded 2-core machine); an account not cached yet costs a cold read.
		select {
		case <-time.After(3 * time.Since(start)):
		case <-ctx.Done():
		}
	}
	return n, ctx.Err()
}

// room is how many more accounts the cache takes before it evicts.
func (c *ledgerCache) room() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.entries()
	return m.max - m.len()
}

// LedgerCacheLen is how many accounts the ledger cache holds (for /metrics and tests).
func (s *Service) LedgerCacheLen() int { return s.ledger.len() }
