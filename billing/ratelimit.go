package billing

import (
	"sync"
	"time"
)

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
