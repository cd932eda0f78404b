package handlers

import (
	"testing"

	"creditline/billing"
)

// FuzzPriceFormFields parses the editor's free-text fields (tiers, match) from arbitrary
// input: never panics, and tiers that parse without error write back to the same tiers.
func FuzzPriceFormFields(f *testing.F) {
	for _, s := range []string{"10:1, 0.7", "0.5", "1000:10, 5000:8, 6", "model=gpt-4o, quality=hd", "=x", ":", ",,", "1e9:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v billing.Validation
		tiers := parseTiers(&v, "tiers", s)
		_ = parseMatch(&v, "match", s)
		if v.Err() != nil || len(tiers) == 0 {
			return
		}
		var w billing.Validation
		again := parseTiers(&w, "tiers", TiersText(tiers))
		if w.Err() != nil || len(again) != len(tiers) {
			t.Fatalf("%q → %v → %q does not parse back", s, tiers, TiersText(tiers))
		}
		for i := range tiers {
			if again[i] != tiers[i] {
				t.Fatalf("%q: tier %d %v became %v", s, i, tiers[i], again[i])
			}
		}
	})
}
