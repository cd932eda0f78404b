package billing

import (
	"context"
	"sync"
	"time"
)

// PeriodTotals are the console's figures over one period. Consumed and Active come from the
// daily usage rollups (whole UTC days), never from usage events.
type PeriodTotals struct {
	Issued   Credits `db:"issued"`
	Consumed Credits `db:"consumed"`
	Expired  Credits `db:"expired"`
	Active   int     `db:"active"`
}

// CashIn is money received in one currency (minor units); Refunded is what was refunded of
// those payments since.
type CashIn struct {
	Currency      string `db:"currency"`
	Today         int64  `db:"today"`
	Month         int64  `db:"month"`
	MonthRefunded int64  `db:"month_refunded"`
}

// TopAccount is an account ranked by credits consumed this month.
type TopAccount struct {
	ID      string  `db:"id"`
	Name    string  `db:"name"`
	Credits Credits `db:"credits"`
	Events  int64   `db:"events"`
}

// AdminOverviewStore reads the console overview's figures, platform-wide, each method one query.
type AdminOverviewStore interface {
	// PeriodTotals sums grants, rollups and expiry entries from from (inclusive) to to (exclusive).
	PeriodTotals(ctx context.Context, from, to time.Time) (PeriodTotals, error)
	// CashByCurrency sums payments received since monthStart, and since today, per currency.
	CashByCurrency(ctx context.Context, monthStart, today time.Time) ([]CashIn, error)
	// TopAccounts ranks accounts by credits consumed on days from..today.
	TopAccounts(ctx context.Context, from time.Time, limit int) ([]TopAccount, error)
	// PlatformDaily sums the rollups of every account per day and action from from on.
	PlatformDaily(ctx context.Context, from time.Time) ([]DailyUsage, error)
}

// AdminOverview is the console's first page.
type AdminOverview struct {
	Now          time.Time
	Today, Month PeriodTotals
	Cash         []CashIn
	Top          []TopAccount
	Chart        UsageChart
	Refusals     RefusalCounts
	Counts       PlatformCounts
	// Finance is filled by package revenue, which reads the ledger's results (its rollups).
	Finance AdminFinance
}

// AdminFinance is this month's revenue and margin for the overview.
type AdminFinance struct {
	Month      time.Time
	Currencies []FinanceLine
	// RevenueUSD (cents) against VendorCostMicro (micro-USD); MarginTenths is the gross margin
	// in tenths of a percent of revenue when HasMargin (there was revenue).
	RevenueUSD      int64
	VendorCostMicro int64
	MarginTenths    int64
	HasMargin       bool
	// Losing are the actions and models whose vendor cost passed their revenue, worst first.
	Losing []MarginLine
}

// FinanceLine is one currency: deferred now, recognised and breakage this month (minor units).
type FinanceLine struct {
	Currency                       string
	Deferred, Recognised, Breakage int64
}

// MarginLine is one action and model's revenue (USD cents) against vendor cost (micro-USD).
type MarginLine struct {
	Action, Model   string
	RevenueUSD      int64
	VendorCostMicro int64
}

// AdminOverviewDays is the span of the overview's chart.
const AdminOverviewDays = 30

// AdminOverview reads today's and this month's figures (UTC), the top accounts and the 30-day chart.
func (s *Service) AdminOverview(ctx context.Context) (AdminOverview, error) {
	now := s.Now()
	today := utcDay(now)
	month := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	tomorrow := today.AddDate(0, 0, 1)
	o := AdminOverview{Now: now}
	var err error
	if o.Today, err = s.store.PeriodTotals(ctx, today, tomorrow); err != nil {
		return o, err
	}
	if o.Month, err = s.store.PeriodTotals(ctx, month, tomorrow); err != nil {
		return o, err
	}
	if o.Cash, err = s.store.CashByCurrency(ctx, month, today); err != nil {
		return o, err
	}
	if o.Top, err = s.store.TopAccounts(ctx, month, 5); err != nil {
		return o, err
	}
	first := today.AddDate(0, 0, -(AdminOverviewDays - 1))
	rows, err := s.store.PlatformDaily(ctx, first)
	if err != nil {
		return o, err
	}
	o.Chart = BuildUsageChart(rows, today, AdminOverviewDays, nil)
	if o.Counts, err = s.store.Counts(ctx); err != nil {
		return o, err
	}
	return o, nil
}

// RefusalCounts are 402 (credits or spend limit) and 429 (rate limit) answers counted by this
// instance since it started, today and this month (UTC). They are not stored.
type RefusalCounts struct {
	PaymentToday, PaymentMonth     int64
	RateLimitToday, RateLimitMonth int64
}

// Refusals counts refused requests in memory; the zero value is ready.
type Refusals struct {
	mu   sync.Mutex
	days map[time.Time][2]int64 // UTC day -> {402, 429}
}

// Note counts an answer refused for credits or a spend limit (402) or for a rate limit (429),
// from the error a handler returned or the status it wrote.
func (r *Refusals) Note(err error, status int, now time.Time) {
	i := -1
	switch code := ErrorCode(err); {
	case code == EInsufficient || code == ESpendLimit || err == nil && status == 402:
		i = 0
	case code == ERateLimited || err == nil && status == 429:
		i = 1
	}
	if i < 0 {
		return // no lock on the path of every other answer
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.days == nil {
		r.days = map[time.Time][2]int64{}
	}
	d := utcDay(now)
	c := r.days[d]
	c[i]++
	r.days[d] = c
	for k := range r.days { // keep about two months
		if d.Sub(k) > 62*24*time.Hour {
			delete(r.days, k)
		}
	}
}

// Counts reads today's and this month's refusals.
func (r *Refusals) Counts(now time.Time) RefusalCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	today := utcDay(now)
	var out RefusalCounts
	for d, c := range r.days {
		if d.Year() == today.Year() && d.Month() == today.Month() {
			out.PaymentMonth += c[0]
			out.RateLimitMonth += c[1]
		}
		if d.Equal(today) {
			out.PaymentToday, out.RateLimitToday = c[0], c[1]
		}
	}
	return out
}
