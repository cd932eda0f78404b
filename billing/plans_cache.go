package billing

import (
	"context"
	"sync"
	"time"
)

// planCache keeps plans in memory for the hot path; it reloads every planCacheTTL so other
// instances' edits arrive, and at once after a local edit.
type planCache struct {
	mu     sync.RWMutex
	plans  map[string]Plan
	loaded time.Time
	loads  flight[map[string]Plan]
}

const planCacheTTL = 30 * time.Second

// AccountPlan returns the plan account a is on, cached: from an in-memory copy of every plan,
// reloaded every planCacheTTL and at once after a local edit; the hot path's lookup.
// Errors: not_found.
func (s *Service) AccountPlan(ctx context.Context, a Account) (Plan, error) {
	key := a.PlanKey
	c := &s.plans
	c.mu.RLock()
	p, ok := c.plans[key]
	fresh := time.Since(c.loaded) < planCacheTTL
	c.mu.RUnlock()
	if ok && fresh {
		return p, nil
	}
	m, err := c.loads.do(ctx, "", func(ctx context.Context) (map[string]Plan, error) {
		all, err := s.store.ListPlans(ctx, true)
		if err != nil {
			return nil, err
		}
		m := make(map[string]Plan, len(all))
		for _, p := range all {
			m[p.Key] = p
		}
		return m, nil
	}, func(m map[string]Plan) {
		c.mu.Lock()
		c.plans, c.loaded = m, time.Now()
		c.mu.Unlock()
	})
	if err != nil {
		if ok {
			return p, nil // stale beats failing the request
		}
		return Plan{}, err
	}
	if p, ok := m[key]; ok {
		return p, nil
	}
	return Plan{}, Errorf(ENotFound, "No plan %q.", key)
}

// invalidatePlans makes the next lookup reload.
func (s *Service) invalidatePlans() {
	s.plans.loads.forget()
	s.plans.mu.Lock()
	s.plans.loaded = time.Time{}
	s.plans.mu.Unlock()
}

// Entitlements returns what the account's plan (AccountPlan) allows. Errors: not_found.
func (s *Service) Entitlements(ctx context.Context, a Account) (Entitlements, error) {
	p, err := s.AccountPlan(ctx, a)
	return p.Entitlements, err
}
