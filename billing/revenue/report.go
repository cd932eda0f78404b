package revenue

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"creditline/billing"
)

// MonthReport is one month in one currency; the identity
// Opening + Cash − Recognised − Breakage − Refunds = Closing holds to the cent.
type MonthReport struct {
	Month    time.Time
	Currency string
	Opening  int64
	Monthly
	Cash    int64
	Closing int64
}

// Report is a run of months ending with Last, every currency that has ever had cash.
type Report struct {
	Last   time.Time
	Months int
	// ByCurrency holds Months rows per currency, oldest first.
	ByCurrency map[string][]MonthReport
	Currencies []string
}

// ReportMonths is the span of the revenue page.
const ReportMonths = 12

// ParseMonth reads YYYY-MM. Errors: invalid_request on the field "month".
func ParseMonth(s string) (time.Time, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != 7 || t.Year() < 2000 {
		return time.Time{}, billing.FieldError("month", "Give a month as YYYY-MM from 2000-01 on, e.g. 2026-11.")
	}
	return t.UTC(), nil
}

// Fresh consumes what is safe before a report reads, so a report is never behind by more than
// the transactions still open; a failure to catch up leaves the last consumed figures.
func (s *Service) Fresh(ctx context.Context) error {
	_, err := s.CatchUp(ctx)
	return err
}

// Months reports the n months ending with last (a month's first day).
func (s *Service) Months(ctx context.Context, last time.Time, n int) (Report, error) {
	last = monthOf(last)
	if err := s.Fresh(ctx); err != nil {
		return Report{}, err
	}
	rows, err := s.store.MonthlyThrough(ctx, last)
	if err != nil {
		return Report{}, err
	}
	return build(rows, last, n)
}

// build lays rows out per currency: the running deferred balance from the currency's first
// month, then the last n months of it (months without movements carry the balance).
func build(rows []Monthly, last time.Time, n int) (Report, error) {
	r := Report{Last: last, Months: n, ByCurrency: map[string][]MonthReport{}}
	by := map[string]map[time.Time]Monthly{}
	first := map[string]time.Time{}
	for _, m := range rows {
		m.Month = monthOf(m.Month)
		if by[m.Currency] == nil {
			by[m.Currency] = map[time.Time]Monthly{}
			first[m.Currency] = m.Month
			r.Currencies = append(r.Currencies, m.Currency)
		}
		if m.Month.Before(first[m.Currency]) {
			first[m.Currency] = m.Month
		}
		by[m.Currency][m.Month] = m
	}
	sort.Strings(r.Currencies)
	start := last.AddDate(0, 1-n, 0)
	for _, cur := range r.Currencies {
		var deferred int64
		from := first[cur]
		if start.Before(from) {
			from = start // a full run of months, zeros before the first
		}
		for mo := from; !mo.After(last); mo = mo.AddDate(0, 1, 0) {
			m := by[cur][mo]
			m.Month, m.Currency = mo, cur
			mr := MonthReport{Month: mo, Currency: cur, Opening: deferred, Monthly: m}
			var err error
			for _, v := range []int64{m.CashPacks, m.CashSubscriptions, m.CashRecharges, m.CashOther} {
				if mr.Cash, err = add(mr.Cash, v); err != nil {
					return r, err
				}
			}
			closing := deferred
			for _, v := range []int64{mr.Cash, -m.Recognised, -m.Breakage, -m.Refunds} {
				if closing, err = add(closing, v); err != nil {
					return r, err
				}
			}
			mr.Closing, deferred = closing, closing
			if !mo.Before(start) {
				r.ByCurrency[cur] = append(r.ByCurrency[cur], mr)
			}
		}
	}
	return r, nil
}

// Month is one month's report, one row per currency (a currency with no cash yet is absent).
func (s *Service) Month(ctx context.Context, month time.Time) ([]MonthReport, error) {
	r, err := s.Months(ctx, month, 1)
	if err != nil {
		return nil, err
	}
	var out []MonthReport
	for _, cur := range r.Currencies {
		out = append(out, r.ByCurrency[cur]...)
	}
	return out, nil
}

// CSV is the report as comma-separated rows, newest month first, amounts in minor units.
func (r Report) CSV() string {
	var b strings.Builder
	b.WriteString("month,currency,opening_deferred,cash_packs,cash_subscriptions,cash_auto_recharge,cash_other,cash,recognised,breakage,refunds,closing_deferred\n")
	for _, cur := range r.Currencies {
		rows := r.ByCurrency[cur]
		for i := len(rows) - 1; i >= 0; i-- {
			m := rows[i]
			fmt.Fprintf(&b, "%s,%s,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d\n", m.Month.Format("2006-01"), cur, m.Opening,
				m.CashPacks, m.CashSubscriptions, m.CashRecharges, m.CashOther, m.Cash, m.Recognised, m.Breakage, m.Refunds, m.Closing)
		}
	}
	return b.String()
}

// Margin is a month's credit revenue against vendor cost by action and model.
type Margin struct {
	Month time.Time
	Rows  []MarginRow
	// RevenueUSD (cents) and VendorCost (micro-USD) are the month's totals.
	RevenueUSD, VendorCost int64
}

// GrossMicro is revenue less vendor cost in micro-USD.
func (r MarginRow) GrossMicro() int64 { return r.RevenueUSD*10_000 - r.VendorCost }

// Losing says the row earned less than it cost.
func (r MarginRow) Losing() bool { return r.GrossMicro() < 0 }

// GrossMicro is the month's gross margin in micro-USD.
func (m Margin) GrossMicro() int64 { return m.RevenueUSD*10_000 - m.VendorCost }

// Percent is the gross margin as a share of revenue, in tenths of a percent; ok is false
// without revenue.
func (m Margin) Percent() (tenths int64, ok bool) {
	if m.RevenueUSD <= 0 {
		return 0, false
	}
	return m.GrossMicro() * 1000 / (m.RevenueUSD * 10_000), true
}

// Losing are the rows that lost money, worst first.
func (m Margin) Losing() []MarginRow {
	var out []MarginRow
	for _, r := range m.Rows {
		if r.Losing() {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].GrossMicro() < out[j].GrossMicro() })
	return out
}

// MarginOf reads the month's margin from the rollups.
func (s *Service) MarginOf(ctx context.Context, month time.Time) (Margin, error) {
	month = monthOf(month)
	if err := s.Fresh(ctx); err != nil {
		return Margin{}, err
	}
	rows, err := s.store.MarginOf(ctx, month)
	if err != nil {
		return Margin{}, err
	}
	m := Margin{Month: month, Rows: rows}
	for _, r := range rows {
		if m.RevenueUSD, err = add(m.RevenueUSD, r.RevenueUSD); err != nil {
			return m, err
		}
		if m.VendorCost, err = add(m.VendorCost, r.VendorCost); err != nil {
			return m, err
		}
	}
	return m, nil
}

// Now is the service clock.
func (s *Service) Now() time.Time { return s.now().UTC() }

// Finance is this month's figures for the admin overview: deferred, recognised and breakage
// per currency, the gross margin and the actions that lose money (at most five).
func (s *Service) Finance(ctx context.Context) (billing.AdminFinance, error) {
	now := s.Now()
	r, err := s.Months(ctx, now, 1)
	if err != nil {
		return billing.AdminFinance{}, err
	}
	m, err := s.MarginOf(ctx, now)
	if err != nil {
		return billing.AdminFinance{}, err
	}
	f := billing.AdminFinance{Month: r.Last, RevenueUSD: m.RevenueUSD, VendorCostMicro: m.VendorCost}
	f.MarginTenths, f.HasMargin = m.Percent()
	for _, cur := range r.Currencies {
		row := lastOf(r.ByCurrency[cur])
		f.Currencies = append(f.Currencies, billing.FinanceLine{Currency: cur, Deferred: row.Closing, Recognised: row.Recognised, Breakage: row.Breakage})
	}
	for i, l := range m.Losing() {
		if i == 5 {
			break
		}
		f.Losing = append(f.Losing, billing.MarginLine{Action: l.Action, Model: l.Model, RevenueUSD: l.RevenueUSD, VendorCostMicro: l.VendorCost})
	}
	return f, nil
}

func lastOf(rows []MonthReport) MonthReport {
	if len(rows) == 0 {
		return MonthReport{}
	}
	return rows[len(rows)-1]
}
