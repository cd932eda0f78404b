package value

import (
	"fmt"
	"math/big"
)

// BigCredits is a number of millicredits of any size: what verify reads from sums and columns,
// so that no value the database can hold (a sum past int64, a corrupt row) stops it.
type BigCredits struct{ v big.Int }

// BigOf is c as BigCredits.
func BigOf(c Credits) BigCredits {
	var b BigCredits
	b.v.SetInt64(int64(c))
	return b
}

// Scan reads an integer column or a numeric sum (database/sql's Scanner).
func (b *BigCredits) Scan(src any) error {
	switch s := src.(type) {
	case nil:
		b.v.SetInt64(0)
	case int64:
		b.v.SetInt64(s)
	case []byte:
		return b.set(string(s))
	case string:
		return b.set(s)
	default:
		return fmt.Errorf("billing: cannot read %T as credits", src)
	}
	return nil
}

func (b *BigCredits) set(s string) error {
	if _, ok := b.v.SetString(s, 10); !ok {
		return fmt.Errorf("billing: %q is not a whole number of millicredits", s)
	}
	return nil
}

// Cmp compares like big.Int.Cmp.
func (b *BigCredits) Cmp(o *BigCredits) int { return b.v.Cmp(&o.v) }

// Sign is -1, 0 or +1.
func (b *BigCredits) Sign() int { return b.v.Sign() }

// Add returns b + o; Sub b - o; Neg -b. None changes b.
func (b *BigCredits) Add(o *BigCredits) *BigCredits {
	r := new(BigCredits)
	r.v.Add(&b.v, &o.v)
	return r
}
func (b *BigCredits) Sub(o *BigCredits) *BigCredits {
	r := new(BigCredits)
	r.v.Sub(&b.v, &o.v)
	return r
}
func (b *BigCredits) Neg() *BigCredits { r := new(BigCredits); r.v.Neg(&b.v); return r }

// Outside reports whether b lies outside [lo, hi].
func (b *BigCredits) Outside(lo, hi Credits) bool {
	l, h := BigOf(lo), BigOf(hi)
	return b.Cmp(&l) < 0 || b.Cmp(&h) > 0
}

// String prints credits like Credits.String, at any size ("12.5", "-0.001").
func (b BigCredits) String() string {
	abs := new(big.Int).Abs(&b.v)
	q, r := new(big.Int).QuoRem(abs, big.NewInt(1000), new(big.Int))
	sign := ""
	if b.v.Sign() < 0 {
		sign = "-"
	}
	if r.Sign() == 0 {
		return sign + q.String()
	}
	return sign + q.String() + "." + trimZeros(fmt.Sprintf("%03d", r.Int64()))
}

func trimZeros(s string) string {
	for len(s) > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return s
}
