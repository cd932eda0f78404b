package billing

import (
	"net/netip"
	"sync"
	"time"
)

// ClientKey is the key of a client in per-address throttles: an IPv4 address (IPv4-mapped
// IPv6 unmapped), or an IPv6 address's /64, which one subscriber gets whole and can rotate
// through freely. Anything unparseable is its own key.
func ClientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// NetworkKey is the network an address belongs to for abuse rules: its /24 (IPv4) or /64
// (IPv6); "" for anything unparseable.
func NetworkKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits)
	return p.String()
}

// refusalCounts counts the API requests the rate limit refused, per account, in memory (the
// hot path only touches it when it refuses); abuse detection takes and stores them.
type refusalCounts struct {
	mu sync.Mutex
	m  map[string]int64
}

func (r *refusalCounts) add(accountID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]int64{}
	}
	r.m[accountID]++
}

// TakeRateLimitRefusals returns the refusals counted by this process since the last call,
// per account, and starts counting afresh.
func (s *Service) TakeRateLimitRefusals() map[string]int64 {
	s.refusals.mu.Lock()
	defer s.refusals.mu.Unlock()
	m := s.refusals.m
	s.refusals.m = nil
	return m
}

// RestoreRateLimitRefusals adds back counts taken by TakeRateLimitRefusals that could not be
// saved, so that a failed flush loses nothing.
func (s *Service) RestoreRateLimitRefusals(counts map[string]int64) {
	s.refusals.mu.Lock()
	defer s.refusals.mu.Unlock()
	if s.refusals.m == nil {
		s.refusals.m = map[string]int64{}
	}
	for id, n := range counts {
		s.refusals.m[id] += n
	}
}

// Limiter is an in-memory fixed-window rate limiter keyed by string (an IP, an email, an API
// key). It protects one process; behind a load balancer each instance counts on its own.
type Limiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	now    func() time.Time
	hits   map[string]*window
	sweeps int
}

type window struct {
	start time.Time
	count int
}

// NewLimiter allows limit events per window for each key.
func NewLimiter(limit int, per time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{limit: limit, window: per, now: now, hits: map[string]*window{}}
}

// Allow counts one event for key. When the key is over its limit it returns false and how
// long until the window resets.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	w := l.hits[key]
	if w == nil || now.Sub(w.start) >= l.window {
		w = &window{start: now}
		l.hits[key] = w
	}
	if w.count >= l.limit {
		return false, w.start.Add(l.window).Sub(now)
	}
	w.count++
	return true, 0
}

// sweep drops expired windows now and then so the map cannot grow without bound.
func (l *Limiter) sweep(now time.Time) {
	l.sweeps++
	if l.sweeps%1024 != 0 {
		return
	}
	for k, w := range l.hits {
		if now.Sub(w.start) >= l.window {
			delete(l.hits, k)
		}
	}
}

// Throttle slows repeated failures (wrong passwords) with growing delays instead of locking:
// after Free failures for a key, each further attempt must wait Base, 2·Base, 4·Base … up to
// Max after the last failure. A key with no failure for Forget is dropped.
type Throttle struct {
	mu                sync.Mutex
	free              int
	base, max, forget time.Duration
	now               func() time.Time
	strikes           map[string]*strike
	sweeps            int
}

type strike struct {
	fails int
	last  time.Time
}

// NewThrottle builds a Throttle; now may be nil (time.Now).
func NewThrottle(free int, base, max, forget time.Duration, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{free: free, base: base, max: max, forget: forget, now: now, strikes: map[string]*strike{}}
}

// Wait is how long key must wait before its next attempt; 0 means go ahead.
func (t *Throttle) Wait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	s := t.strikes[key]
	if s == nil || now.Sub(s.last) >= t.forget {
		return 0
	}
	return max(s.last.Add(t.delay(s.fails)).Sub(now), 0)
}

// delay after n failures.
func (t *Throttle) delay(n int) time.Duration {
	if n < t.free {
		return 0
	}
	d := t.base
	for i := t.free; i < n && d < t.max; i++ {
		d *= 2
	}
	return min(d, t.max)
}

// Attempt reserves one attempt for key: when key must wait it returns the wait and counts
// nothing; otherwise it counts a failure up front and returns 0. Counting before the check
// (rather than after it fails) keeps concurrent requests from all passing Wait before any of
// them fails: at most Free checks run without a delay. Undo gives back an attempt that did
// not fail.
func (t *Throttle) Attempt(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	s := t.current(key, now)
	if wait := s.last.Add(t.delay(s.fails)).Sub(now); s.fails > 0 && wait > 0 {
		return wait
	}
	s.fails++
	s.last = now
	return 0
}

// current is key's record, a fresh one when it has none or its last failure is forgotten.
// The caller holds t.mu.
func (t *Throttle) current(key string, now time.Time) *strike {
	t.sweep(now)
	s := t.strikes[key]
	if s == nil || now.Sub(s.last) >= t.forget {
		s = &strike{}
		t.strikes[key] = s
	}
	return s
}

// Undo takes back one attempt counted by Attempt (the password was right, or never checked).
func (t *Throttle) Undo(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.strikes[key]; s != nil && s.fails > 0 {
		s.fails--
	}
}

// Fail records a failure for key.
func (t *Throttle) Fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	s := t.current(key, now)
	s.fails++
	s.last = now
}

// Reset forgets key's failures (a successful sign-in).
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.strikes, key)
}

func (t *Throttle) sweep(now time.Time) {
	t.sweeps++
	if t.sweeps%1024 != 0 {
		return
	}
	for k, s := range t.strikes {
		if now.Sub(s.last) >= t.forget {
			delete(t.strikes, k)
		}
	}
}
