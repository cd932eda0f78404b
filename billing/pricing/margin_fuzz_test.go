package pricing

import (
	"encoding/json"
	"testing"
)

// FuzzDraftReview runs what the editor and the API do with a posted book (validate one rate,
// typical requests, margin warnings, the diff against the seed) on arbitrary JSON: never
// panics, and every warning is one the exact check agrees with.
func FuzzDraftReview(f *testing.F) {
	seed, err := json.Marshal(SeedBook())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed, 40, int64(100_000))
	f.Add([]byte(`{"version":1,"status":"draft","actions":[{"key":"a","name":"A","quantities":["images"]}],
		"rates":[{"id":"r","action":"a","components":[{"quantity":"images","per":1,"price":"0.001","cost_micro_usd":9000000000000}]}]}`), 95, int64(1))
	f.Add([]byte(`{"version":1,"status":"draft"}`), 0, int64(0))
	live := SeedBook()
	f.Fuzz(func(t *testing.T, data []byte, pct int, credit int64) {
		var d BookData
		if json.Unmarshal(data, &d) != nil {
			return
		}
		d.Version, d.Status = 2, BookDraft
		b, err := NewBook(d)
		if err != nil {
			return
		}
		target := MarginTarget{Percent: pct, CreditMicroUSD: credit}
		if target.Check() != nil {
			target = DefaultMarginTarget
		}
		for _, r := range d.Rates {
			_ = b.ValidateRate(r.ID)
		}
		for _, w := range b.MarginWarnings(target) {
			if !BelowTarget(w.RevenueMicroUSD, w.CostMicroUSD, target.Percent) {
				t.Fatalf("warning %+v is not below %d%%", w, target.Percent)
			}
		}
		_ = TypicalImpact(live, b)
		_ = Diff(live, b)
		if _, err := b.Renumbered(3); err != nil {
			t.Fatal(err)
		}
	})
}
