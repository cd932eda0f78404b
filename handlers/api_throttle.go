package handlers

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"creditline/billing"
)

// Failed API key attempts allowed per client IP and window; past them every request from
// that IP, with a valid key or not, is refused until the window ends, so a flood of guesses
// costs no key lookups.
const (
	keyFailureLimit  = 20
	keyFailureWindow = time.Minute
)

// keyFailures counts failed key attempts per IP in fixed windows. IPs with no failure cost a
// single atomic load.
type keyFailures struct {
	active atomic.Int64 // entries in m; 0 lets the hot path skip the lock
	mu     sync.Mutex
	m      map[string]*window
	now    func() time.Time
}

type window struct {
	start time.Time
	count int
}

func (f *keyFailures) clock() time.Time {
	if f.now != nil {
		return f.now()
	}
	return time.Now()
}

// blocked says how long ip must wait, or 0.
func (f *keyFailures) blocked(ip string) time.Duration {
	if f.active.Load() == 0 {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.m[ip]
	if w == nil {
		return 0
	}
	now := f.clock()
	if end := w.start.Add(keyFailureWindow); now.Before(end) {
		if w.count >= keyFailureLimit {
			return end.Sub(now)
		}
		return 0
	}
	delete(f.m, ip)
	f.active.Add(-1)
	return 0
}

// fail counts one failed attempt from ip; expired windows of other IPs are dropped when the
// map grows, so it stays bounded by the IPs failing within one window.
func (f *keyFailures) fail(ip string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.clock()
	if f.m == nil {
		f.m = map[string]*window{}
	}
	if len(f.m) >= 1024 && len(f.m)&(len(f.m)-1) == 0 {
		for k, w := range f.m {
			if now.Sub(w.start) >= keyFailureWindow {
				delete(f.m, k)
				f.active.Add(-1)
			}
		}
	}
	w := f.m[ip]
	if w == nil || now.Sub(w.start) >= keyFailureWindow {
		if w == nil {
			f.active.Add(1)
		}
		w = &window{start: now}
		f.m[ip] = w
	}
	w.count++
}

// keyThrottled is the rate_limited answer to an IP over its failed-key budget (the error
// handler sends Retry-After from details.retry_after).
func keyThrottled(wait time.Duration) error {
	secs := max(int(wait.Seconds()+0.999), 1)
	return &billing.Error{Code: billing.ERateLimited,
		Message: "Too many requests with invalid API keys from your address; retry in " + strconv.Itoa(secs) + " s.",
		Details: map[string]any{"retry_after": secs}}
}
