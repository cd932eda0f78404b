package billing

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// accountCache keeps account snapshots (status, plan, limits, ids) for the hot path, so a
// debit does not read the account before the transaction that decides it. A snapshot is
// current: every change to an account's settings, on any instance, is announced when it
// commits (migration 0014, store.Listen) and drops the snapshot here (ForgetAccount). Money
// decisions never rest on a snapshot alone: status and limits are enforced again under the
// account's lock or version check, and a debit priced for another plan is priced again.
type accountCache struct {
	mu    sync.RWMutex
	max   int // twice the ledger cache's bound: an account may be cached under two refs
	m     *clockMap[cachedAccount]
	loads flight[Account]
}

// cachedAccount is a snapshot, or (zero at) a tombstone: the account changed at acc.Version,
// and no state older than that may be cached again.
type cachedAccount struct {
	acc Account
	at  time.Time // expiry
}

const (
	// accountCacheTTL is only a backstop for a listener that is down: changes arrive as
	// notifications, and a lost listener connection drops every snapshot.
	accountCacheTTL = 10 * time.Second
)

// AccountSnapshot resolves an id or external:<id> to the account as last announced.
// Errors: not_found.
func (s *Service) AccountSnapshot(ctx context.Context, ref string) (Account, error) {
	c := &s.accounts
	now := time.Now()
	c.mu.RLock()
	var ca cachedAccount
	ok := false
	if c.m != nil {
		var p *cachedAccount
		if p, ok = c.m.get(ref); ok {
			ca = *p
		}
	}
	c.mu.RUnlock()
	if ok && now.Before(ca.at) {
		return ca.acc, nil
	}
	// A customer base larger than what a TTL keeps fresh (100,000 accounts and more) would
	// read the account on most requests: the ledger cache's copy is as current (see
	// routingAccount) unless a tombstone or a newer snapshot says otherwise.
	if a, found := s.ledgerRoute(ref, ca, ok); found {
		return a, nil
	}
	if !s.ledgerLocked && !strings.HasPrefix(ref, "external:") {
		return s.coldAccount(ctx, ref) // read with others, into the ledger cache
	}
	return c.loads.do(ctx, ref, func(ctx context.Context) (Account, error) {
		return s.ResolveAccount(ctx, ref)
	}, func(a Account) { s.snapshot(ref, a) })
}

// ledgerRoute is the ledger cache's account for ref (an id), unless the snapshot found (ok)
// for ref, expired or a tombstone, is of a newer version.
func (s *Service) ledgerRoute(ref string, ca cachedAccount, ok bool) (Account, bool) {
	if strings.HasPrefix(ref, "external:") {
		return Account{}, false
	}
	a, found := s.ledger.routingAccount(ref)
	if !found || (ok && ca.acc.Version > a.Version) {
		return Account{}, false
	}
	return a, true
}

func snapshotExpiry() time.Time {
	// Spread over ±20% of the TTL so snapshots taken together are not all refreshed together.
	return time.Now().Add(accountCacheTTL*4/5 + time.Duration(rand.Int64N(int64(accountCacheTTL*2/5))))
}

// put stores a under key unless the cache holds a newer state (or a tombstone) of the
// account under that key or under its id. The caller holds c.mu.
func (c *accountCache) put(key string, a Account, exp time.Time) {
	m := c.entries()
	if old, ok := m.peek(key); ok && old.acc.ID == a.ID && old.acc.Version > a.Version {
		return
	}
	if key != a.ID {
		if old, ok := m.peek(a.ID); ok && old.acc.Version > a.Version {
			return
		}
	}
	m.put(key, cachedAccount{acc: a, at: exp})
}

// entries returns the map, made on first use with its bound (evicting the least recently
// used snapshot one by one when full). The caller holds c.mu for writing.
func (c *accountCache) entries() *clockMap[cachedAccount] {
	if c.m == nil {
		if c.max <= 0 {
			c.max = 2 * DefaultLedgerCacheAccounts
		}
		c.m = newClockMap[cachedAccount](c.max)
		// An account's external ref goes with its id, so ForgetAccount, which finds the
		// external ref through the id's entry, never leaves it behind.
		c.m.onEvict = func(key string, ca *cachedAccount) {
			if !strings.HasPrefix(key, "external:") && ca.acc.ExternalID != nil && *ca.acc.ExternalID != "" {
				c.m.remove("external:" + *ca.acc.ExternalID)
			}
		}
	}
	return c.m
}

// snapshot records an account read under ref (an id or an external id) and its id.
func (s *Service) snapshot(ref string, a Account) {
	c := &s.accounts
	exp := snapshotExpiry()
	c.mu.Lock()
	defer c.mu.Unlock()
	// The ref before the id: inserting the ref may evict, and must not evict the id entry
	// that an eviction or ForgetAccount finds the ref through.
	if ref != a.ID {
		c.put(ref, a, exp)
	}
	c.put(a.ID, a, exp)
}

// snapshotsFrom renews the snapshots of a committed batch's accounts with the state the batch
// saw under lock or version check, so that busy accounts are not read again for routing.
func (s *Service) snapshotsFrom(b *book) {
	c := &s.accounts
	exp := snapshotExpiry()
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, st := range b.accounts {
		c.put(id, st.acc, exp)
	}
}

// snapshotsOf records snapshots of accounts just read, under the refs AccountSnapshot is
// asked for: the id, and "external:" + the external id (never the bare external id, which
// an operator may have chosen equal to another account's id).
func (s *Service) snapshotsOf(accs []Account) {
	c := &s.accounts
	exp := snapshotExpiry()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range accs {
		if a.ExternalID != nil && *a.ExternalID != "" {
			c.put("external:"+*a.ExternalID, a, exp) // before the id, as in snapshot
		}
		c.put(a.ID, a, exp)
	}
}

// forgetAccount drops an account's snapshots after a local change to it.
func (s *Service) forgetAccount(id string) { s.ForgetAccount(id, 0) }

// ForgetAccount drops the snapshots of an account changed (by any instance) at version (0:
// unknown), and keeps any state older than version from being cached again: a batch that read
// the account before the change may finish after the notification.
func (s *Service) ForgetAccount(id string, version int64) {
	s.members.forget(id) // a membership change notifies as an account change
	s.cold.forget(id)
	c := &s.accounts
	c.loads.forget()
	c.mu.Lock()
	// An account is cached under its id, and under "external:"+its external id only together
	// with its id (snapshot, snapshotsOf), which never changes: two deletes, no scan. (An
	// eviction takes the external ref with the id, see entries.)
	m := c.entries()
	if ca, ok := m.peek(id); ok && ca.acc.ExternalID != nil && *ca.acc.ExternalID != "" {
		m.remove("external:" + *ca.acc.ExternalID)
	}
	m.remove(id)
	if version > 0 {
		m.put(id, cachedAccount{acc: Account{ID: id, Version: version}})
	}
	c.mu.Unlock()
	// Version-checked anyway; dropping spares a refused statement, and the tombstone keeps a
	// state read before the change from routing after it.
	s.ledger.forget(id, version)
}

// ForgetAccounts drops every account snapshot: notifications may have been missed (the
// listener's connection was lost).
func (s *Service) ForgetAccounts() {
	s.members.clear()
	s.cold.forgetAll()
	c := &s.accounts
	c.loads.forget()
	s.ledger.notificationsLost() // first: a routing read between the two finds nothing stale
	c.mu.Lock()
	if c.m != nil {
		c.m.clear()
	}
	c.mu.Unlock()
}
