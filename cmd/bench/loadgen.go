package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

type loadgen struct {
	warmup   time.Duration // load sent before measuring: connections, caches and prepared statements warm up
	base     string
	key      string
	accounts []string
	members  map[string]string // account -> its member (-members), nil without
	seq      atomic.Int64
	run      string // the idempotency keys' prefix: another run (or -reuse) must not replay them
}

func (l *loadgen) client(n int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: n * 2, MaxIdleConnsPerHost: n * 2, MaxConnsPerHost: n * 2}}
}

func (l *loadgen) event(acc string) []byte {
	// small-open chat: 1 credit flat (0.8 on the benchmark plan); its own idempotency key.
	if m := l.members[acc]; m != "" {
		return []byte(fmt.Sprintf(`{"account":%q,"member":%q,"action":"chat.completion","attributes":{"model":"small-open"},"idempotency_key":"bench-%s%d"}`,
			acc, m, l.run, l.seq.Add(1)))
	}
	return []byte(fmt.Sprintf(`{"account":%q,"action":"chat.completion","attributes":{"model":"small-open"},"idempotency_key":"bench-%s%d"}`,
		acc, l.run, l.seq.Add(1)))
}

func (l *loadgen) post(c *http.Client, path string, body []byte) (int, error) {
	req, _ := http.NewRequest(http.MethodPost, l.base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+l.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// samples collects latencies from many goroutines.
type samples struct {
	from time.Time // requests sent earlier are warm-up, not counted
	mu   sync.Mutex
	lat  []time.Duration
	ok   int64
	errs int64
}

func (s *samples) add(sent time.Time, d time.Duration, ok bool, n int) {
	if sent.Before(s.from) {
		return
	}
	s.mu.Lock()
	s.lat = append(s.lat, d)
	if ok {
		s.ok += int64(n)
	} else {
		s.errs++
	}
	s.mu.Unlock()
}

func (s *samples) result(name string, clients int, elapsed time.Duration) result {
	sort.Slice(s.lat, func(i, j int) bool { return s.lat[i] < s.lat[j] })
	q := func(p float64) float64 {
		if len(s.lat) == 0 {
			return 0
		}
		return float64(s.lat[int(p*float64(len(s.lat)-1))].Microseconds()) / 1000
	}
	return result{name: name, clients: clients, perSec: float64(s.ok) / elapsed.Seconds(), p50: q(0.50), p99: q(0.99), errors: s.errs}
}

// closedLoop runs n clients that each send one debit, wait for the answer, and repeat.
func (l *loadgen) closedLoop(ctx context.Context, name string, n int, d time.Duration, hot bool) result {
	c := &rawPool{base: l.base, path: "/api/v1/usage", key: l.key}
	defer c.close()
	var s samples
	ctx, cancel := context.WithTimeout(ctx, l.warmup+d)
	defer cancel()
	start := time.Now()
	s.from = start.Add(l.warmup)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 1))
			for ctx.Err() == nil {
				acc := l.accounts[0]
				if !hot {
					acc = l.accounts[r.IntN(len(l.accounts))]
				}
				body := l.event(acc)
				t := time.Now()
				status, err := c.post(body)
				s.add(t, time.Since(t), err == nil && status == 201, 1)
			}
		}(uint64(i))
	}
	wg.Wait()
	return s.result(name, n, time.Since(s.from))
}

// batches runs n clients posting batches of size events spread over the accounts.
func (l *loadgen) batches(ctx context.Context, name string, n, size int, d time.Duration) result {
	c := l.client(n)
	var s samples
	ctx, cancel := context.WithTimeout(ctx, l.warmup+d)
	defer cancel()
	start := time.Now()
	s.from = start.Add(l.warmup)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 2))
			for ctx.Err() == nil {
				var b bytes.Buffer
				b.WriteString(`{"events":[`)
				for j := 0; j < size; j++ {
					if j > 0 {
						b.WriteByte(',')
					}
					b.Write(l.event(l.accounts[r.IntN(len(l.accounts))]))
				}
				b.WriteString(`]}`)
				t := time.Now()
				status, err := l.post(c, "/api/v1/usage/batch", b.Bytes())
				s.add(t, time.Since(t), err == nil && status == 200, size)
			}
		}(uint64(i) + 100)
	}
	wg.Wait()
	return s.result(name, n, time.Since(s.from))
}

// fixedRate sends rate requests per second whatever the latency (open loop); a request that
// finds every in-flight slot busy is dropped and counted.
func (l *loadgen) fixedRate(ctx context.Context, name string, rate int, d time.Duration) result {
	const slots = 256
	c := &rawPool{base: l.base, path: "/api/v1/usage", key: l.key}
	defer c.close()
	var s samples
	var dropped atomic.Int64
	sem := make(chan struct{}, slots)
	tl := newTimeline(l.warmup + d)
	ctx, cancel := context.WithTimeout(ctx, l.warmup+d)
	defer cancel()
	start := time.Now()
	s.from = start.Add(l.warmup)
	interval := time.Second / time.Duration(rate)
	var wg sync.WaitGroup
	r := rand.New(rand.NewPCG(7, 3))
	next := start
	for ctx.Err() == nil {
		next = next.Add(interval)
		if w := time.Until(next); w > 0 {
			time.Sleep(w)
		}
		select {
		case sem <- struct{}{}:
		default:
			if now := time.Now(); !now.Before(s.from) {
				dropped.Add(1)
			}
			tl.drop(time.Now())
			continue
		}
		acc := l.accounts[r.IntN(len(l.accounts))]
		body := l.event(acc)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t := time.Now()
			status, err := c.post(body)
			s.add(t, time.Since(t), err == nil && status == 201, 1)
			tl.done(t, time.Since(t))
		}()
	}
	wg.Wait()
	res := s.result(name, slots, time.Since(s.from))
	res.dropped = dropped.Load()
	res.timeline = tl.String()
	return res
}

// timeline counts, per 250 ms of the run, the requests sent, dropped, and the slowest answer,
// so a stall shows when it happened (printed with -timeline).
type timeline struct {
	mu    sync.Mutex
	start time.Time
	sent  []int
	drops []int
	worst []time.Duration
}

const tick = 250 * time.Millisecond

func newTimeline(d time.Duration) *timeline {
	n := int(d/tick) + 2
	return &timeline{start: time.Now(), sent: make([]int, n), drops: make([]int, n), worst: make([]time.Duration, n)}
}

func (t *timeline) slot(at time.Time) int {
	return min(int(at.Sub(t.start)/tick), len(t.sent)-1)
}

func (t *timeline) drop(at time.Time) {
	t.mu.Lock()
	t.drops[t.slot(at)]++
	t.mu.Unlock()
}

func (t *timeline) done(sent time.Time, lat time.Duration) {
	t.mu.Lock()
	i := t.slot(sent)
	t.sent[i]++
	t.worst[i] = max(t.worst[i], lat)
	t.mu.Unlock()
}

func (t *timeline) String() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "  %8s %6s %7s %10s\n", "at", "sent", "dropped", "worst ms")
	for i := range t.sent {
		if t.sent[i]+t.drops[i] == 0 {
			continue
		}
		fmt.Fprintf(&b, "  %7.2fs %6d %7d %10.1f\n", (time.Duration(i) * tick).Seconds(), t.sent[i], t.drops[i], float64(t.worst[i].Microseconds())/1000)
	}
	return b.String()
}
