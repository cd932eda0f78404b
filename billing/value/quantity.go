package value

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Quantity is an amount of an action's unit in thousandths: 10.5 MB is 10500,
// 1,000 tokens is 1000000. Counts (tokens, images, steps, words) must be whole;
// measured units (megabytes, seconds, megapixels) take up to 3 decimals.
// It shares the fixed-point form of Credits, so parsing and printing are the same.
type Quantity int64

// Count is n whole units (tokens, images, words). Values beyond ~9.2e15 saturate.
func Count(n int64) Quantity {
	const max = math.MaxInt64 / 1000
	if n > max {
		n = max
	} else if n < -max {
		n = -max
	}
	return Quantity(n * 1000)
}

// ParseQuantity reads a decimal such as "10.5" or "1000": digits, at most 3 decimals, at most
// MaxQuantity. No sign ("-0" and "+1" are refused), no exponent, no spaces. The estimate and the
// charge both read quantities here (Quantity.UnmarshalJSON), so they refuse the same inputs.
func ParseQuantity(s string) (Quantity, error) {
	if s != "" && s[0] == '-' {
		return 0, fmt.Errorf("%q must not be negative", s)
	}
	if s != "" && s[0] == '+' {
		return 0, fmt.Errorf("%q is not a number: write it without a sign", s)
	}
	c, err := ParseCredits(s)
	if err != nil {
		return 0, err
	}
	if Quantity(c) > MaxQuantity {
		return 0, fmt.Errorf("%q is more than 1000000000000", s)
	}
	return Quantity(c), nil
}

// MustQuantity parses s and panics on error; for constants in tests and seeds.
func MustQuantity(s string) Quantity { return Quantity(MustCredits(s)) }

// Whole reports whether q is a whole number of units.
func (q Quantity) Whole() bool { return q%1000 == 0 }

// String is the shortest exact decimal form: "10.5", "1000", "0".
func (q Quantity) String() string { return Credits(q).String() }

// MarshalJSON writes a JSON number ("quantity": 10.5); the text is exact.
func (q Quantity) MarshalJSON() ([]byte, error) { return []byte(q.String()), nil }

// UnmarshalJSON accepts a JSON number or a decimal string, never through float64:
// 1000, 10.5 and "10.5" are accepted; 1e3 and 0.0001 are not.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := ParseQuantity(s)
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// Multiplier is an exact factor in ten-thousandths: 1.5 is 15000, 0.9 is 9000.
// In price book data a zero Multiplier means "not set" and acts as ×1.
type Multiplier int64

// MultiplierOne is ×1.
const MultiplierOne Multiplier = 10000

// ParseMultiplier reads a non-negative decimal with at most 4 decimals ("1.5", "0.875").
func ParseMultiplier(s string) (Multiplier, error) {
	v, err := parseFixed(s, 4)
	return Multiplier(v), err
}

// MustMultiplier parses s and panics on error; for constants in tests and seeds.
func MustMultiplier(s string) Multiplier {
	m, err := ParseMultiplier(s)
	if err != nil {
		panic(err)
	}
	return m
}

// Or1 returns m, or ×1 when m is unset (zero).
func (m Multiplier) Or1() Multiplier {
	if m == 0 {
		return MultiplierOne
	}
	return m
}

// String is the shortest exact decimal form: "1.5", "0.9", "1".
func (m Multiplier) String() string { return formatFixed(int64(m), 4) }

// MarshalText makes a Multiplier a JSON string ("0.9"), like Credits.
func (m Multiplier) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText accepts the decimal string form only.
func (m *Multiplier) UnmarshalText(b []byte) error {
	v, err := ParseMultiplier(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// parseFixed reads a non-negative decimal into an integer scaled by 10^places.
func parseFixed(s string, places int) (int64, error) {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if (intPart == "" && frac == "") || (hasDot && frac == "") || !AllDigits(intPart) || !AllDigits(frac) {
		return 0, fmt.Errorf("%q is not a non-negative number", s)
	}
	if len(frac) > places {
		return 0, fmt.Errorf("%q has more than %d decimal places", s, places)
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > 18-places {
		return 0, fmt.Errorf("%q is too large", s)
	}
	var whole int64
	if intPart != "" {
		whole, _ = strconv.ParseInt(intPart, 10, 64)
	}
	frac += strings.Repeat("0", places-len(frac))
	f, _ := strconv.ParseInt(frac, 10, 64)
	scale := int64(math.Pow10(places))
	return whole*scale + f, nil
}

// formatFixed prints v scaled by 10^places without trailing zeros.
func formatFixed(v int64, places int) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	scale := int64(math.Pow10(places))
	whole, frac := v/scale, v%scale
	if frac == 0 {
		return sign + strconv.FormatInt(whole, 10)
	}
	fs := strconv.FormatInt(frac+scale, 10)[1:]
	return sign + strconv.FormatInt(whole, 10) + "." + strings.TrimRight(fs, "0")
}
