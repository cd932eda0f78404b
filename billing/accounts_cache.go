package billing

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// accountCache keeps recent account snapshots (status, plan, ids) for the hot path, so a
// debit does not read the account before the transaction that locks it. Snapshots only route
// and price; status and limits are enforced again under the account lock.
type accountCache struct {
	mu    sync.RWMutex
	m     map[string]cachedAccount
	loads flight[Account]
}

type cachedAccount struct {
	acc Account
	at  time.Time // expiry
}

const (
	accountCacheTTL = 10 * time.Second // plan changes made on another instance reach pricing within this
	accountCacheMax = 200_000
)

// AccountSnapshot resolves an id or external:<id> to an account at most accountCacheTTL old.
// Errors: not_found.
func (s *Service) AccountSnapshot(ctx context.Context, ref string) (Account, error) {
	c := &s.accounts
	now := time.Now()
	c.mu.RLock()
	ca, ok := c.m[ref]
	c.mu.RUnlock()
	if ok && now.Before(ca.at) {
		return ca.acc, nil
	}
	return c.loads.do(ctx, ref, func(ctx context.Context) (Account, error) {
		return s.ResolveAccount(ctx, ref)
	}, func(a Account) { s.snapshot(ref, a) })
}

// snapshot records an account read under ref (an id or an external id) and its id.
func (s *Service) snapshot(ref string, a Account) {
	c := &s.accounts
	now := time.Now()
	c.mu.Lock()
	if c.m == nil || len(c.m) >= accountCacheMax {
		c.m = make(map[string]cachedAccount, 1024)
	}
	// Expiry is spread over ±20% of the TTL so snapshots taken together are not all refreshed
	// together.
	exp := now.Add(accountCacheTTL*4/5 + time.Duration(rand.Int64N(int64(accountCacheTTL*2/5))))
	c.m[ref] = cachedAccount{acc: a, at: exp}
	if ref != a.ID {
		c.m[a.ID] = cachedAccount{acc: a, at: exp}
	}
	c.mu.Unlock()
}

// snapshotsFrom renews the snapshots of a committed batch's accounts with the state the batch
// saw under lock or version check, so that busy accounts are not read again for routing.
func (s *Service) snapshotsFrom(b *book) {
	c := &s.accounts
	exp := time.Now().Add(accountCacheTTL*4/5 + time.Duration(rand.Int64N(int64(accountCacheTTL*2/5))))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m)+len(b.accounts) > accountCacheMax {
		c.m = make(map[string]cachedAccount, 1024)
	}
	for id, st := range b.accounts {
		c.m[id] = cachedAccount{acc: st.acc, at: exp}
	}
}

// snapshotsOf records snapshots of accounts just read, under the refs AccountSnapshot is
// asked for: the id, and "external:" + the external id (never the bare external id, which
// an operator may have chosen equal to another account's id).
func (s *Service) snapshotsOf(accs []Account) {
	c := &s.accounts
	exp := time.Now().Add(accountCacheTTL*4/5 + time.Duration(rand.Int64N(int64(accountCacheTTL*2/5))))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m)+2*len(accs) > accountCacheMax {
		c.m = make(map[string]cachedAccount, 2*len(accs))
	}
	for _, a := range accs {
		c.m[a.ID] = cachedAccount{acc: a, at: exp}
		if a.ExternalID != nil && *a.ExternalID != "" {
			c.m["external:"+*a.ExternalID] = cachedAccount{acc: a, at: exp}
		}
	}
}

// forgetAccount drops an account's snapshot after a local change to it.
func (s *Service) forgetAccount(id string) {
	s.accounts.loads.forget()
	s.accounts.mu.Lock()
	for k, ca := range s.accounts.m {
		if ca.acc.ID == id {
			delete(s.accounts.m, k)
		}
	}
	s.accounts.mu.Unlock()
}
