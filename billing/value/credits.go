// Package value holds the domain's value types: credits, quantities, multipliers, ids, the
// bounds on amounts and the one error type with its codes. It imports nothing of ours, so
// every other package of the domain can depend on it.
package value

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Credits is an amount of credits in millicredits (1 credit = 1000).
// Credits never pass through floating point.
type Credits int64

// Milli is one thousandth of a credit; Credit is one credit.
const (
	Milli  Credits = 1
	Credit Credits = 1000
)

// ParseCredits reads a decimal string such as "12.5", "-3", "0.125".
// At most 3 fractional digits; no exponent, no spaces, no thousands separators.
func ParseCredits(s string) (Credits, error) {
	if s == "" {
		return 0, fmt.Errorf("is empty")
	}
	neg := false
	body := s
	switch body[0] {
	case '-':
		neg, body = true, body[1:]
	case '+':
		body = body[1:]
	}
	intPart, frac, hasDot := strings.Cut(body, ".")
	if intPart == "" && (!hasDot || frac == "") {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if hasDot && frac == "" {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if !AllDigits(intPart) || !AllDigits(frac) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if len(frac) > 3 {
		return 0, fmt.Errorf("%q has more than 3 decimal places", s)
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > 16 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	var whole int64
	if intPart != "" {
		v, err := strconv.ParseInt(intPart, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is too large", s)
		}
		whole = v
	}
	frac += strings.Repeat("0", 3-len(frac))
	f, _ := strconv.ParseInt(frac, 10, 64)
	if whole > (math.MaxInt64-f)/1000 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	v := whole*1000 + f
	if neg {
		v = -v
	}
	return Credits(v), nil
}

// MustCredits parses s and panics on error; for constants in tests and seeds.
func MustCredits(s string) Credits {
	c, err := ParseCredits(s)
	if err != nil {
		panic(err)
	}
	return c
}

func AllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String is the shortest exact decimal form: "12.5", "0.125", "1000", "-0.001".
func (c Credits) String() string {
	v := int64(c)
	sign := ""
	var u uint64
	if v < 0 {
		sign = "-"
		u = uint64(-(v + 1)) + 1 // safe for MinInt64
	} else {
		u = uint64(v)
	}
	whole, frac := u/1000, u%1000
	if frac == 0 {
		return sign + strconv.FormatUint(whole, 10)
	}
	fs := fmt.Sprintf("%03d", frac)
	fs = strings.TrimRight(fs, "0")
	return sign + strconv.FormatUint(whole, 10) + "." + fs
}

// Display formats for people: thousands separators, at most 3 decimals.
func (c Credits) Display() string {
	s := c.String()
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if hasFrac {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}

// MarshalText makes Credits a JSON string ("12.5").
func (c Credits) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText accepts the decimal string form only.
func (c *Credits) UnmarshalText(b []byte) error {
	v, err := ParseCredits(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
