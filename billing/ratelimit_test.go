package billing

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLimiter(3, time.Minute, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("hit %d refused", i)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait != time.Minute {
		t.Fatalf("4th hit: ok=%v wait=%v", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("keys must be independent")
	}
	now = now.Add(61 * time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("window did not reset")
	}
}

func TestThrottleDelaysGrowAndResetClearsThem(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := NewThrottle(5, time.Second, 4*time.Second, time.Hour, func() time.Time { return now })
	for i := 0; i < 5; i++ {
		if w := th.Wait("k"); w != 0 {
			t.Fatalf("attempt %d must not wait, got %v", i+1, w)
		}
		th.Fail("k")
	}
	// After the free failures each further failure doubles the wait, up to the cap.
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second} {
		if w := th.Wait("k"); w != want {
			t.Fatalf("wait %v, want %v", w, want)
		}
		now = now.Add(want)
		if w := th.Wait("k"); w != 0 {
			t.Fatalf("still waiting %v after the delay", w)
		}
		th.Fail("k")
	}
	if th.Wait("other") != 0 {
		t.Fatal("keys must be independent")
	}
	th.Reset("k")
	if th.Wait("k") != 0 {
		t.Fatal("reset did not clear the delay")
	}
	// Failures are forgotten after a quiet period.
	for i := 0; i < 6; i++ {
		th.Fail("q")
	}
	now = now.Add(time.Hour)
	if th.Wait("q") != 0 {
		t.Fatal("failures not forgotten")
	}
}
