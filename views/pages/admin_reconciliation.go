package pages

import (
	"strconv"

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
