package pages

import (
	"strconv"
	"strings"

	"creditline/billing"
	"creditline/billing/revenue"
)

// AdminRevenueView is the revenue page: 12 months per currency and the last month's margin.
type AdminRevenueView struct {
	R      revenue.Report
	Margin revenue.Margin
}

// microUSD shows micro-dollars as dollars and cents (half away from zero).
func microUSD(v int64) string {
	c := (v + 5_000) / 10_000
	if v < 0 {
		c = (v - 5_000) / 10_000
	}
	return billing.FormatMoney(c, "usd")
}

// marginPct is a margin in tenths of a percent as "41.3%".
func marginPct(tenths int64) string {
	s := strconv.FormatInt(tenths/10, 10) + "." + strconv.FormatInt(abs64(tenths%10), 10) + "%"
	if tenths < 0 && tenths > -10 {
		s = "-" + s
	}
	return s
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func rowMarginPct(r revenue.MarginRow) string {
	if r.RevenueUSD <= 0 {
		if r.VendorCost > 0 {
			return "no revenue"
		}
		return "—"
	}
	return marginPct(r.GrossMicro() * 1000 / (r.RevenueUSD * 10_000))
}

func actionLabel(a string) string {
	if a == "" {
		return "(direct debit)"
	}
	return a
}

func modelLabel(m string) string {
	if m == "" {
		return "—"
	}
	return m
}

func currencyName(c string) string { return strings.ToUpper(c) }

// revenueChart lays one currency's months out as two bars per month: cash in, and money out
// of deferred stacked as recognised, breakage, refunds.
type revenueBar struct {
	X, Y, W, H int64
	Fill       string
}

const (
	revSlot   = 100
	revHeight = 1000
)

// revenueScale rounds the largest bar up to 1, 2, 2.5 or 5 × a power of ten (cents).
func revenueScale(rows []revenue.MonthReport) int64 {
	var top int64 = 1
	for _, m := range rows {
		top = max(top, m.Cash, m.Recognised+m.Breakage+m.Refunds)
	}
	for p := int64(1); ; p *= 10 {
		for _, k := range []int64{10, 20, 25, 50} {
			if v := p * k / 10; v >= top {
				return v
			}
		}
	}
}

func revenueBars(rows []revenue.MonthReport) []revenueBar {
	scale := revenueScale(rows)
	y := func(c int64) int64 { return revHeight - c*revHeight/scale }
	var out []revenueBar
	for i, m := range rows {
		x := int64(i * revSlot)
		if m.Cash > 0 {
			out = append(out, revenueBar{X: x + 12, Y: y(m.Cash), W: 36, H: max(revHeight-y(m.Cash), 1), Fill: "fill-indigo-300"})
		}
		var cum int64
		for _, p := range []struct {
			v    int64
			fill string
		}{{m.Recognised, "fill-indigo-700"}, {m.Breakage, "fill-slate-500"}, {m.Refunds, "fill-amber-600"}} {
			if p.v <= 0 {
				continue
			}
			top, bottom := y(cum+p.v), y(cum)
			cum += p.v
			out = append(out, revenueBar{X: x + 52, Y: top, W: 36, H: max(bottom-top, 1), Fill: p.fill})
		}
	}
	return out
}

func revenueSummary(cur string, rows []revenue.MonthReport) string {
	var cash, rec int64
	for _, m := range rows {
		cash += m.Cash
		rec += m.Recognised
	}
	s := "Over " + strconv.Itoa(len(rows)) + " months in " + currencyName(cur) + ": cash in " + billing.FormatMoney(cash, cur) +
		", recognised " + billing.FormatMoney(rec, cur)
	if len(rows) > 0 {
		s += ", deferred at the end " + billing.FormatMoney(rows[len(rows)-1].Closing, cur)
	}
	return s + "."
}

func monthLabel(rows []revenue.MonthReport, i int) string {
	if i < 0 || i >= len(rows) {
		return ""
	}
	return rows[i].Month.Format("Jan 2006")
}

func lastRow(rows []revenue.MonthReport) revenue.MonthReport {
	if len(rows) == 0 {
		return revenue.MonthReport{}
	}
	return rows[len(rows)-1]
}

func i64s(v int64) string { return strconv.FormatInt(v, 10) }
