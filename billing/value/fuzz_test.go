package value

import (
	"encoding/json"
	"math/big"
	"regexp"
	"strings"
	"testing"
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
