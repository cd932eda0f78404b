package handlers

import (
	"testing"
	"time"
)

func TestKeyFailuresWindow(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := &keyFailures{now: func() time.Time { return now }}
	if f.blocked("1.2.3.4") != 0 || f.active.Load() != 0 {
		t.Fatal("a fresh IP is blocked")
	}
	for i := 0; i < keyFailureLimit; i++ {
		if f.blocked("1.2.3.4") != 0 {
			t.Fatalf("blocked after %d failures", i)
		}
		f.fail("1.2.3.4")
	}
	now = now.Add(10 * time.Second)
	if w := f.blocked("1.2.3.4"); w != 50*time.Second {
		t.Fatalf("after %d failures: wait %v, want 50s", keyFailureLimit, w)
	}
	if f.blocked("5.6.7.8") != 0 {
		t.Fatal("another IP is blocked")
	}
	now = now.Add(50 * time.Second)
	if f.blocked("1.2.3.4") != 0 || f.active.Load() != 0 {
		t.Fatalf("still blocked after the window (active %d)", f.active.Load())
	}
}

// An IP with no failure costs no lock and no allocation.
func TestKeyFailuresHotPath(t *testing.T) {
	f := &keyFailures{}
	if n := testing.AllocsPerRun(100, func() { _ = f.blocked("203.0.113.9") }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
