package pages

import (
	"fmt"
	"strconv"
	"strings"

	"creditline/billing/reconcile"
)

// AdminReconciliationView is the reconciliation page: the upload form (with the refusal of a
// bad file), recent imports, and one import's lines.
type AdminReconciliationView struct {
	Imports   []reconcile.Import
	Shown     *reconcile.Import
	FileError string
}

func itoa(n int) string { return strconv.Itoa(n) }

// variance is vendor against recorded as a signed percentage with one decimal.
func variance(vendor, recorded int64) string {
	if recorded == 0 {
		if vendor == 0 {
			return "0.0%"
		}
		return "not recorded"
	}
	tenths := (vendor - recorded) * 1000 / recorded
	s := marginPct(tenths)
	if tenths > 0 {
		s = "+" + s
	}
	return s
}

// costUSD shows a vendor cost in micro-dollars to the hundredth of a cent, as vendors bill.
func costUSD(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	v = (v + 50) / 100 // hundredths of a cent
	return sign + "$" + groupInt(v/10_000) + "." + fmt.Sprintf("%04d", v%10_000)
}

// groupInt writes a whole number with thousands separators.
func groupInt(v int64) string {
	s := strconv.FormatInt(v, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
