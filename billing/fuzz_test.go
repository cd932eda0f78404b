package billing

import (
	"encoding/json"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"
)

// decimalRE is the oracle's idea of a credits string: optional sign, digits, up to 3 decimals.
var decimalRE = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]{1,3})?|\.[0-9]{1,3})$`)

// FuzzParseCredits: never panics; accepts exactly the decimals that fit int64 millicredits,
// with their exact value (checked against big.Rat); String reads back to the same value.
func FuzzParseCredits(f *testing.F) {
	for _, s := range []string{"0", "12.5", "-3", "0.125", "+1", "-0", ".5", "1.", "1e3", " 1", "9223372036854775.807",
		"9223372036854775.808", "-9223372036854775.808", "0000000000000000000001", "1,000", "0.0001", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCredits(s)
		want, ok := new(big.Rat), decimalRE.MatchString(s)
		if ok {
			want.SetString(strings.TrimPrefix(s, "+"))
			want.Mul(want, big.NewRat(1000, 1))
			// Symmetric bounds: ±MaxInt64 millicredits (MinInt64 has no positive twin).
			ok = want.IsInt() && new(big.Int).Abs(want.Num()).IsInt64()
		}
		switch {
		case ok && err != nil:
			t.Fatalf("ParseCredits(%q) refused a value that fits: %v", s, err)
		case !ok && err == nil:
			t.Fatalf("ParseCredits(%q) = %d, want an error", s, c)
		case err == nil && want.Num().Int64() != int64(c):
			t.Fatalf("ParseCredits(%q) = %d, want %s", s, c, want.Num())
		}
		if err != nil {
			return
		}
		if back, err := ParseCredits(c.String()); err != nil || back != c {
			t.Fatalf("round trip of %q: %q -> %d, %v", s, c.String(), back, err)
		}
		var u Credits
		if err := u.UnmarshalText([]byte(c.String())); err != nil || u != c {
			t.Fatalf("UnmarshalText(%q) = %d, %v", c.String(), u, err)
		}
		_ = c.Display()
		if CheckCreditInput("credits", c, false) == nil && (c < 0 || c > MaxCredits) {
			t.Fatalf("%s passed the credit bound", c)
		}
	})
}

// FuzzParseQuantity: never panics; what it accepts is 0..MaxQuantity, unsigned, reads back the
// same, and decodes the same from JSON (the estimate and the charge both decode JSON).
func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"0", "10.5", "1000", "-0", "+1", "1e3", " 1", "1 ", "0.001", "0.0001", "1000000000000",
		"1000000000000.001", "-2", "\x00", "1\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuantity(s)
		if err != nil {
			return
		}
		if q < 0 || q > MaxQuantity {
			t.Fatalf("ParseQuantity(%q) = %d: outside 0..MaxQuantity", s, q)
		}
		if s == "" || (s[0] < '0' || s[0] > '9') && s[0] != '.' {
			t.Fatalf("ParseQuantity(%q) accepted a sign or other prefix", s)
		}
		if back, err := ParseQuantity(q.String()); err != nil || back != q {
			t.Fatalf("round trip of %q: %q -> %d, %v", s, q.String(), back, err)
		}
		var j Quantity
		if err := json.Unmarshal([]byte(`"`+q.String()+`"`), &j); err != nil || j != q {
			t.Fatalf("JSON %q -> %d, %v", q.String(), j, err)
		}
	})
}

// FuzzPriceBookJSON decodes and validates a price book from arbitrary bytes: never panics. A book
// that validates compiles and prices a request for each of its rates, with every quantity the
// action takes set to n, without panic, and every price it gives is within 0..MaxCredits.
func FuzzPriceBookJSON(f *testing.F) {
	seed, err := json.Marshal(SeedPriceBook())
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
		var b PriceBook
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
			qs := map[string]Quantity{}
			for _, name := range a.Quantities {
				qs[name] = Quantity(n)
				if !QuantityIsMeasured(name) {
					qs[name] = Count(n / 1000)
				}
			}
			req := PriceRequest{Action: r.Action, Quantities: qs, Attributes: r.Match, At: at, Batch: flags&1 == 1,
				PlanMultiplier: Multiplier(flags) * 1000, Plan: "p"}
			q, err := b.Price(req)
			if err != nil {
				continue // refusals (negative or too large) are answers, not failures
			}
			if q.Credits < 0 || q.Credits > MaxCredits || q.Breakdown.Total != q.Credits {
				t.Fatalf("rate %s priced %s (total %s) for %v", r.ID, q.Credits, q.Breakdown.Total, qs)
			}
			_ = q.Breakdown.String()
		}
	})
}
