package billing

import (
	"context"
	"errors"
	"runtime"
	"strings"
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
	go func() { defer wg.Done(); got[0], _ = f.do(context.Background(), "k", load, nil) }()
	<-started
	for i := 1; i < 50; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); got[i], _ = f.do(context.Background(), "k", load, nil) }()
	}
	waitJoined(&f, "k", 49) // every caller waits on the one load before it is released
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
	v, err := f.do(context.Background(), "k", func(context.Context) (int, error) { return 7, nil }, nil)
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
		}, nil)
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
	go func() { v, _ := f.do(context.Background(), "k", nil, nil); other <- v }()
	waitJoined(&f, "k", 1)
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

// waitJoined returns once n callers have joined the load of key that is running.
func waitJoined[T any](f *flight[T], key string, n int) {
	for {
		f.mu.Lock()
		joined := 0
		if c := f.calls[key]; c != nil {
			joined = c.joined
		}
		f.mu.Unlock()
		if joined >= n {
			return
		}
		runtime.Gosched()
	}
}

// A load that panics answers its callers with an error instead of taking the process down.
func TestFlightLoadPanics(t *testing.T) {
	var f flight[int]
	_, err := f.do(context.Background(), "k", func(context.Context) (int, error) { panic("boom") }, nil)
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err %v, want the panic as an error", err)
	}
	if v, err := f.do(context.Background(), "k", func(context.Context) (int, error) { return 1, nil }, nil); v != 1 || err != nil {
		t.Fatalf("after a panic: %d %v, want a fresh load", v, err)
	}
}

// A cache invalidated while a load runs does not get that load's answer: it may predate the
// change. The callers still get it (they asked before the change); the next load is kept.
func TestFlightForgetDropsAnswersOfEarlierLoads(t *testing.T) {
	var f flight[int]
	release := make(chan struct{})
	kept := []int{}
	keep := func(v int) { kept = append(kept, v) } // under f.mu
	got := make(chan int, 1)
	go func() {
		v, _ := f.do(context.Background(), "k", func(context.Context) (int, error) { <-release; return 1, nil }, keep)
		got <- v
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
	f.forget()
	close(release)
	if v := <-got; v != 1 {
		t.Fatalf("caller got %d, want 1", v)
	}
	if v, _ := f.do(context.Background(), "k", func(context.Context) (int, error) { return 2, nil }, keep); v != 2 {
		t.Fatalf("later caller got %d, want a fresh load", v)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(kept) != 1 || kept[0] != 2 {
		t.Fatalf("kept %v, want only the load begun after forget [2]", kept)
	}
}
