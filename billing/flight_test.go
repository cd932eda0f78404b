package billing

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// Callers that arrive while a load runs share it; the next caller after it ends loads again.
func TestFlightSharesOneLoad(t *testing.T) {
	var f flight[int]
	var loads atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{})
	load := func(context.Context) (int, error) {
		if loads.Add(1) == 1 {
			close(started)
		}
		<-release
		return 42, nil
	}
	var wg sync.WaitGroup
	got := make([]int, 50)
	wg.Add(1)
	go func() { defer wg.Done(); got[0], _ = f.do(context.Background(), "k", load) }()
	<-started
	for i := 1; i < 50; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); got[i], _ = f.do(context.Background(), "k", load) }()
	}
	for { // every caller is waiting on the one call before it is released
		f.mu.Lock()
		joined := f.calls["k"].joined
		f.mu.Unlock()
		if joined == 49 {
			break
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	for i, v := range got {
		if v != 42 {
			t.Fatalf("caller %d got %d", i, v)
		}
	}
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads for 50 callers", n)
	}
	v, err := f.do(context.Background(), "k", func(context.Context) (int, error) { return 7, nil })
	if v != 7 || err != nil {
		t.Fatalf("after the flight: %d %v, want a fresh load", v, err)
	}
}

// A caller that gives up gets its context's error; the load still answers the others, and
// runs on a context the first caller's cancellation does not reach.
func TestFlightCallerGivesUp(t *testing.T) {
	var f flight[string]
	release := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	loadErr := make(chan error, 1)
	done := make(chan struct{})
	var first error
	go func() {
		defer close(done)
		_, first = f.do(ctx, "k", func(lctx context.Context) (string, error) {
			<-release
			loadErr <- lctx.Err()
			return "v", nil
		})
	}()
	for {
		f.mu.Lock()
		n := len(f.calls)
		f.mu.Unlock()
		if n == 1 {
			break
		}
		runtime.Gosched()
	}
	other := make(chan string, 1)
	go func() { v, _ := f.do(context.Background(), "k", nil); other <- v }()
	for {
		f.mu.Lock()
		joined := f.calls["k"].joined
		f.mu.Unlock()
		if joined == 1 {
			break
		}
		runtime.Gosched()
	}
	cancel()
	<-done
	if !errors.Is(first, context.Canceled) {
		t.Fatalf("first caller: %v, want context.Canceled", first)
	}
	close(release)
	if err := <-loadErr; err != nil {
		t.Fatalf("the load saw %v: the first caller's cancellation reached it", err)
	}
	if v := <-other; v != "v" {
		t.Fatalf("other caller got %q", v)
	}
}
