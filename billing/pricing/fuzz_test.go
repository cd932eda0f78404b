package pricing

import (
	"encoding/json"
	"testing"
	"time"

	"creditline/billing/value"
)

// FuzzPriceBookJSON decodes and validates a price book from arbitrary bytes: never panics. A book
// that validates compiles and prices a request for each of its rates, with every quantity the
// action takes set to n, without panic, and every price it gives is within 0..MaxCredits.
func FuzzPriceBookJSON(f *testing.F) {
	seed, err := json.Marshal(SeedBook())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed, int64(1000), uint8(0))
	f.Add(seed, int64(1)<<62, uint8(3))
	f.Add([]byte(`{"version":1,"status":"draft","actions":[{"key":"a","name":"A","quantities":["images"]}],
		"rates":[{"id":"r","action":"a","components":[{"quantity":"images","per":1,"price":"9223372036854775.807"}]}]}`), int64(1000), uint8(1))
	f.Add([]byte(`{"version":1,"status":"draft","actions":[{"key":"a","name":"A","quantities":["megabytes"]}],
		"rates":[{"id":"r","action":"a","multiplier":"99999999999999","components":[{"quantity":"megabytes","per":1,
		"tiers":[{"up_to":"1","price":"5"},{"price":"9223372036854775.807"}]}]}],"batch_multiplier":"99999999999999"}`), int64(5000), uint8(2))
	f.Add([]byte(`{}`), int64(0), uint8(0))
	f.Add([]byte(`{"version":1,"status":"published","schedule":{"enabled":true,"windows":[{"days":["mon"],"from_hour":0,"to_hour":24,"multiplier":"9999"}]}}`), int64(0), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, n int64, flags uint8) {
		var b Book
		if err := json.Unmarshal(data, &b); err != nil {
			return
		}
		if b.Validate() != nil {
			return
		}
		d := b.Data()
		at := time.Date(2026, 11, 23+int(flags%7), int(flags/7)%24, 0, 0, 0, time.UTC)
		for _, r := range d.Rates {
			a := findAction(&d, r.Action)
			if a == nil {
				t.Fatalf("a valid book has rate %s of unknown action %s", r.ID, r.Action)
			}
			qs := map[string]value.Quantity{}
			for _, name := range a.Quantities {
				qs[name] = value.Quantity(n)
				if !QuantityIsMeasured(name) {
					qs[name] = value.Count(n / 1000)
				}
			}
			req := Request{Action: r.Action, Quantities: qs, Attributes: r.Match, At: at, Batch: flags&1 == 1,
				PlanMultiplier: value.Multiplier(flags) * 1000, Plan: "p"}
			q, err := b.Price(req)
			if err != nil {
				continue // refusals (negative or too large) are answers, not failures
			}
			if q.Credits < 0 || q.Credits > value.MaxCredits || q.Breakdown.Total != q.Credits {
				t.Fatalf("rate %s priced %s (total %s) for %v", r.ID, q.Credits, q.Breakdown.Total, qs)
			}
			_ = q.Breakdown.String()
		}
	})
}
