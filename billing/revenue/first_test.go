package revenue

import "testing"

// A debit whose entries straddle two batches counts its event once.
func TestMarkFirstAcrossBatches(t *testing.T) {
	b1 := []Entry{{Kind: "debit", DebitID: "d1"}, {Kind: "grant"}, {Kind: "debit", DebitID: "d2"}}
	markFirst(b1, nil)
	b2 := []Entry{{Kind: "debit", DebitID: "d2"}, {Kind: "debit", DebitID: "d3"}, {Kind: "debit", DebitID: "d3"}}
	markFirst(b2, []string{"d1", "d2"})
	got := []bool{b1[0].First, b1[1].First, b1[2].First, b2[0].First, b2[1].First, b2[2].First}
	want := []bool{true, false, true, false, true, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("first flags %v, want %v", got, want)
		}
	}
}
