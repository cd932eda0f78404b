package pricing

import (
	"math"
	"math/big"
	"math/bits"
)

// exact is a non-negative rational number. It works in uint64 numerator and
// denominator (no allocation) and moves to math/big the first time a step would
// overflow, so results are exact for any input.
type exact struct {
	n, d uint64
	big  *big.Rat // non-nil once the uint64 form overflowed
}

func newExact() exact { return exact{n: 0, d: 1} }

// addProduct adds q*num/den (den > 0).
func (e *exact) addProduct(q, num, den uint64) {
	if q == 0 || num == 0 {
		return
	}
	if e.big == nil {
		if tn, td, ok := mulFrac(q, 1, num, den); ok {
			if sn, sd, ok := addFrac(e.n, e.d, tn, td); ok {
				e.n, e.d = sn, sd
				return
			}
		}
		e.toBig()
	}
	t := new(big.Rat).SetFrac(u2big(q), u2big(den))
	t.Mul(t, new(big.Rat).SetInt(u2big(num)))
	e.big.Add(e.big, t)
}

// add adds o.
func (e *exact) add(o *exact) {
	if e.big == nil && o.big == nil {
		if n, d, ok := addFrac(e.n, e.d, o.n, o.d); ok {
			e.n, e.d = n, d
			return
		}
	}
	if e.big == nil {
		e.toBig()
	}
	if o.big == nil {
		o.toBig()
	}
	e.big.Add(e.big, o.big)
}

// mul multiplies by num/den (den > 0).
func (e *exact) mul(num, den uint64) {
	if e.big == nil {
		if n, d, ok := mulFrac(e.n, e.d, num, den); ok {
			e.n, e.d = n, d
			return
		}
		e.toBig()
	}
	e.big.Mul(e.big, new(big.Rat).SetFrac(u2big(num), u2big(den)))
}

// atLeast raises e to c when it is below c, and reports whether it did.
func (e *exact) atLeast(c uint64) bool {
	if e.big == nil {
		hi, lo := bits.Mul64(c, e.d)
		if hi == 0 && e.n >= lo {
			return false
		}
		e.n, e.d = c, 1
		return true
	}
	cr := new(big.Rat).SetInt(u2big(c))
	if e.big.Cmp(cr) >= 0 {
		return false
	}
	e.big = cr
	return true
}

// round returns e rounded half up to an integer; ok is false beyond math.MaxInt64.
func (e *exact) round() (int64, bool) {
	if e.big == nil {
		q, r := e.n/e.d, e.n%e.d
		if r >= e.d-r {
			q++
		}
		return int64(q), q <= math.MaxInt64
	}
	q, r := new(big.Int).QuoRem(e.big.Num(), e.big.Denom(), new(big.Int))
	if r.Lsh(r, 1).Cmp(e.big.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Int64(), q.IsInt64()
}

func (e *exact) toBig() {
	e.big = new(big.Rat).SetFrac(u2big(e.n), u2big(e.d))
}

func u2big(v uint64) *big.Int { return new(big.Int).SetUint64(v) }

// gcd is Stein's binary algorithm: shifts and subtractions, no division.
func gcd(a, b uint64) uint64 {
	if a == 0 || b == 0 {
		return a | b
	}
	shift := bits.TrailingZeros64(a | b)
	a >>= bits.TrailingZeros64(a)
	for b != 0 {
		b >>= bits.TrailingZeros64(b)
		if a > b {
			a, b = b, a
		}
		b -= a
	}
	return a << shift
}

// mulFrac returns (an/ad)*(bn/bd) reduced, ok false on overflow.
func mulFrac(an, ad, bn, bd uint64) (uint64, uint64, bool) {
	if an == 0 || bn == 0 {
		return 0, 1, true
	}
	g1, g2 := gcd(an, bd), gcd(bn, ad)
	hn, n := bits.Mul64(an/g1, bn/g2)
	hd, d := bits.Mul64(ad/g2, bd/g1)
	return n, d, hn == 0 && hd == 0
}

// addFrac returns an/ad + bn/bd reduced, ok false on overflow.
func addFrac(an, ad, bn, bd uint64) (uint64, uint64, bool) {
	if an == 0 {
		return bn, bd, true
	}
	g := gcd(ad, bd)
	hl, l := bits.Mul64(ad/g, bd)
	if hl != 0 {
		return 0, 0, false
	}
	h1, x := bits.Mul64(an, l/ad)
	h2, y := bits.Mul64(bn, l/bd)
	s, carry := bits.Add64(x, y, 0)
	if h1 != 0 || h2 != 0 || carry != 0 {
		return 0, 0, false
	}
	g = gcd(s, l)
	return s / g, l / g, true
}
