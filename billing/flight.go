package billing

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// flight lets one caller per key load what a cache lacks while the others asking for the same
// key at the same time wait for that load and share its answer. Without it, a cache entry
// that expires (or a server that just started) under load sends every request in flight to
// the database for the same row at once: 256 requests at a fresh server looked one API key up
// 256 times, and the key's expiry every 10 s repeated that on a smaller scale.
type flight[T any] struct {
	mu    sync.Mutex
	calls map[string]*flightCall[T]
	gen   int // bumped by forget: a load begun before it must not be kept
}

type flightCall[T any] struct {
	done   chan struct{}
	joined int // callers that found it running (under flight.mu)
	v      T
	err    error
}

// flightTimeout bounds a shared load: it runs detached from the first caller's context, so
// that caller giving up does not fail the others.
const flightTimeout = 10 * time.Second

// do returns load's answer for key, running it once for all the callers that arrive while it
// runs. A caller whose ctx ends stops waiting; the load goes on for the others. keep (if not
// nil) stores a successful answer in the cache, unless forget was called since the load
// began: then the answer may predate the change that called it.
func (f *flight[T]) do(ctx context.Context, key string, load func(context.Context) (T, error), keep func(T)) (T, error) {
	f.mu.Lock()
	gen := f.gen
	c, running := f.calls[key]
	if running {
		c.joined++
	} else {
		if f.calls == nil {
			f.calls = map[string]*flightCall[T]{}
		}
		c = &flightCall[T]{done: make(chan struct{})}
		f.calls[key] = c
		go func() {
			defer func() {
				if r := recover(); r != nil { // this goroutine is outside the request's recovery
					c.err = fmt.Errorf("billing: load of %q panicked: %v", key, r)
				}
				f.mu.Lock()
				if f.calls[key] == c {
					delete(f.calls, key)
				}
				f.mu.Unlock()
				close(c.done)
			}()
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flightTimeout)
			defer cancel()
			c.v, c.err = load(lctx)
			if c.err == nil && keep != nil {
				f.mu.Lock()
				if f.gen == gen {
					keep(c.v)
				}
				f.mu.Unlock()
			}
		}()
	}
	f.mu.Unlock()
	select {
	case <-c.done:
		return c.v, c.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// forget is for a cache about to be invalidated; call it before dropping the cache's entries.
// The loads running now are detached (callers that come later start loads of their own
// instead of sharing one that may have read the old row) and their answers are not kept.
func (f *flight[T]) forget() {
	f.mu.Lock()
	f.calls = nil
	f.gen++
	f.mu.Unlock()
}
