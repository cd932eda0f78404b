package value

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestIDsSortByCreationTime(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	prev := ""
	for i, step := range []time.Duration{0, time.Millisecond, time.Second, time.Hour, 24 * time.Hour, 40 * 365 * 24 * time.Hour} {
		// the largest random part at an earlier time still sorts before the smallest at a later one
		lo, hi := newID("deb", t0.Add(step), 0), newID("deb", t0.Add(step), math.MaxUint64)
		if len(lo) != len("deb_")+20 || !strings.HasPrefix(lo, "deb_") {
			t.Fatalf("id %q: want deb_ and 20 characters", lo)
		}
		if i > 0 && step > 0 && !(prev < lo) {
			t.Fatalf("id at +%v (%s) does not sort after the one before (%s)", step, lo, prev)
		}
		if !(lo < hi) || lo[:14] != hi[:14] {
			t.Fatalf("random part changes the time part: %s %s", lo, hi)
		}
		prev = hi
	}
	for _, c := range NewID("acc")[4:] {
		if !strings.ContainsRune(IDAlphabet, c) {
			t.Fatalf("character %q outside the alphabet", c)
		}
	}
	if a, b := NewID("x"), NewID("x"); a == b {
		t.Fatalf("two ids alike: %s", a)
	}
}
