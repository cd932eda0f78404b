package value

// Bounds on every amount of credits. One input (a grant, a priced action, a hold, a limit) is
// at most MaxCredits; a running total the ledger keeps (balance, reserved, spend this period) is
// at most MaxBalance. MaxBalance + MaxCredits and MaxBalance - (-MaxCredits) stay far below
// math.MaxInt64, so the ledger's sums of one total and one input cannot overflow, and the
// schema (migration 0010) refuses what the code would refuse.
const (
	// MaxCredits is 10^12 credits (10^15 millicredits).
	MaxCredits Credits = 1_000_000_000_000 * Credit
	// MaxBalance is 1,000 × MaxCredits (10^18 millicredits; int64 ends near 9.2 × 10^18).
	MaxBalance Credits = 1000 * MaxCredits
	// MaxQuantity is 10^12 units of any quantity (tokens, images, MB), in thousandths.
	MaxQuantity Quantity = 1_000_000_000_000 * 1000
	// MaxMoney bounds an amount of money in minor units (10^12 cents is ten billion dollars).
	MaxMoney int64 = 1_000_000_000_000
)

// CreditsProblem says why c is not a credit input in [min, MaxCredits] ("" when it is).
func CreditsProblem(c, min Credits) string {
	switch {
	case c > MaxCredits:
		return "Must be at most 1,000,000,000,000 credits."
	case c < -MaxCredits:
		return "Must be at least -1,000,000,000,000 credits."
	case c < min:
		if min == 0 {
			return "Must not be negative."
		}
		return "Must be more than 0."
	}
	return ""
}

// CheckCredits adds a field error when c is outside [min, MaxCredits].
func CheckCredits(v *Validation, field string, c, min Credits) {
	if msg := CreditsProblem(c, min); msg != "" {
		v.Add(field, "%s", msg)
	}
}

// CheckCreditInput is invalid_request on field when c is negative (or, with positive, zero)
// or more than MaxCredits: the rule every credit limit and amount in the product follows.
func CheckCreditInput(field string, c Credits, positive bool) error {
	var v Validation
	min := Credits(0)
	if positive {
		min = 1
	}
	CheckCredits(&v, field, c, min)
	return v.Err()
}

// AddTotal adds x to a running total, saturating at ±MaxBalance (no wrap-around, ever).
func AddTotal(total, x Credits) Credits {
	s := total + x // both are bounded far below the int64 range: this cannot wrap
	switch {
	case s > MaxBalance:
		return MaxBalance
	case s < -MaxBalance:
		return -MaxBalance
	}
	return s
}
