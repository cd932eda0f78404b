package billing

import (
	"context"
	"sync"
	"time"
)

// memberActivity batches members' last-active times off the debit path: a member is noted at
// most once a minute (in memory), and the noted members are written by one statement in a
// goroutine, never by the request that used credits.
type memberActivity struct {
	mu       sync.Mutex
	seen     map[string]time.Time // when each member was last noted
	pending  map[string]bool
	flushing bool
}

// activityEvery is how often a member's last-active time may be written.
const activityEvery = time.Minute

// NoteMemberActive records that the member used the account now (usage attributed to them,
// or a page they opened); "" is nobody. It costs a map look-up; the write happens later.
func (s *Service) NoteMemberActive(memberID string) {
	if memberID == "" {
		return
	}
	now := s.Now()
	a := &s.activity
	a.mu.Lock()
	if t, ok := a.seen[memberID]; ok && now.Sub(t) < activityEvery {
		a.mu.Unlock()
		return
	}
	if a.seen == nil || len(a.seen) > 100_000 {
		a.seen = map[string]time.Time{} // forgetting only allows one more write per member
	}
	if a.pending == nil {
		a.pending = map[string]bool{}
	}
	a.seen[memberID], a.pending[memberID] = now, true
	start := !a.flushing
	a.flushing = true
	a.mu.Unlock()
	if start {
		go s.flushActivity(now)
	}
}

// flushActivity writes the pending members until none are left.
func (s *Service) flushActivity(at time.Time) {
	a := &s.activity
	for {
		a.mu.Lock()
		if len(a.pending) == 0 {
			a.flushing = false
			a.mu.Unlock()
			return
		}
		ids := make([]string, 0, len(a.pending))
		for id := range a.pending {
			ids = append(ids, id)
		}
		a.pending = map[string]bool{}
		a.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = s.store.TouchMembersActive(ctx, ids, at) // best effort: a lost write only delays "last active"
		cancel()
		at = s.Now()
	}
}
