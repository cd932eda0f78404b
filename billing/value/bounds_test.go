package value

import (
	"math"
	"testing"
)

func TestRunningTotalsSaturate(t *testing.T) {
	if got := AddTotal(MaxBalance-1, MaxCredits); got != MaxBalance {
		t.Errorf("AddTotal near the top = %d", got)
	}
	if got := AddTotal(-MaxBalance+1, -MaxCredits); got != -MaxBalance {
		t.Errorf("AddTotal near the bottom = %d", got)
	}
	if got := AddTotal(5, 7); got != 12 {
		t.Errorf("AddTotal(5, 7) = %d", got)
	}
	// The bounds leave room: a total plus an input never reaches int64's end.
	if MaxBalance > math.MaxInt64-2*MaxCredits {
		t.Error("MaxBalance leaves no headroom")
	}
}
