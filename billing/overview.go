package billing

import (
	"context"
	"math/bits"
	"sort"
	"time"
)

// The customer dashboard's read models. Every figure comes from the daily rollups
// (usage_daily, written with the events) or from a keyset page of events, so no page
// scans an account's whole history.

// DailyUsage is one rollup row: an account's events and credits on one UTC day for one
// action and model.
type DailyUsage struct {
	Day     time.Time `db:"day"`
	Action  string    `db:"action"`
	Model   string    `db:"model"`
	Events  int64     `db:"events"`
	Credits Credits   `db:"credits"`
}

// DashboardStore reads what the dashboard shows. Every method is scoped to one account.
type DashboardStore interface {
	// UsageDaily returns the account's rollup rows for UTC days from..to (inclusive), oldest first.
	UsageDaily(ctx context.Context, accountID string, from, to time.Time) ([]DailyUsage, error)
	// UsageTotals sums the rollups matching f's account, action, model and whole-day bounds.
	UsageTotals(ctx context.Context, f UsageFilter) (events int64, credits Credits, err error)
	// UsageModels lists the models the account has used, sorted.
	UsageModels(ctx context.Context, accountID string) ([]string, error)
	// UsageEventOf returns one event of the account. Errors: not_found, also for another
	// account's event.
	UsageEventOf(ctx context.Context, accountID, id string) (UsageEvent, error)
}

// Dashboard windows.
const (
	ChartDays      = 30 // the overview chart
	BurnWindowDays = 14 // the run-out projection
	ExpiringDays   = 30 // "expiring soon"
	RecentEvents   = 10 // the overview's recent activity
)

// Overview is everything the customer's home page shows, as of Now.
type Overview struct {
	Now     time.Time
	Account Account
	Plan    Plan
	Balance BalanceSummary
	// ExpiringSoon is what usable grants lose within ExpiringDays; NextExpiry the soonest of them.
	ExpiringSoon Credits
	NextExpiry   *time.Time
	// MostUsed is nil when the account used nothing in the chart window.
	MostUsed *MostUsed
	RunOut   RunOut
	// Spend this period against the monthly limit (nil: none).
	SpentThisPeriod Credits
	SpendLimit      *Credits
	SpendLimitMode  string
	PeriodResetsAt  time.Time
	Chart           UsageChart
	Recent          []UsageEvent
	Low             LowBalance
	// Names maps action keys to display names.
	Names map[string]string
}

// MostUsed is the account's most frequent action over the chart window, and how many more
// of them the available balance buys at the account's own average cost.
type MostUsed struct {
	Action  string
	Name    string
	Events  int64
	Credits Credits
	Average Credits // per event, rounded half up
	Covers  int64
	// Free says the average is 0: the balance is not what limits this action.
	Free bool
}

// RunOut projects when the available balance is used up at the recent pace.
type RunOut struct {
	// Burned is what the account spent from the start of the window to now; PerDay the pace.
	Burned  Credits
	PerDay  Credits
	Since   time.Time
	Empty   bool       // nothing available now
	At      *time.Time // nil: no recent burn, or beyond a year
	Beyond  bool       // more than a year away
	DaysTil int        // whole days from now until At
}

// LowBalance says whether to show the top-up banner, and why.
type LowBalance struct {
	Show      bool
	Reason    string // "empty", "threshold" or "runout"
	Threshold Credits
	// Pack is the suggested one-click top-up (nil: no active pack).
	Pack *Pack
}

// Overview gathers the customer's home page. Errors: not_found.
func (s *Service) Overview(ctx context.Context, acc Account) (Overview, error) {
	return s.OverviewAs(ctx, acc, Membership{Role: RoleOwner})
}

// OverviewAs is Overview seen by the membership m: a role that may not see everyone's usage (a
// member) gets the chart and recent activity of their own usage; the balance is everyone's.
func (s *Service) OverviewAs(ctx context.Context, acc Account, m Membership) (Overview, error) {
	now := s.Now()
	bal, err := s.Balance(ctx, acc.ID)
	if err != nil {
		return Overview{}, err
	}
	acc = bal.Account
	plan, err := s.AccountPlan(ctx, acc)
	if err != nil {
		return Overview{}, err
	}
	today := utcDay(now)
	var rows []DailyUsage
	f := UsageFilter{AccountID: acc.ID, Limit: RecentEvents, Viewer: &m}
	scopeUsage(&f)
	if f.MemberID != "" {
		rows, err = s.store.MemberUsageDaily(ctx, acc.ID, f.MemberID, today.AddDate(0, 0, -(ChartDays-1)), today)
	} else {
		rows, err = s.store.UsageDaily(ctx, acc.ID, today.AddDate(0, 0, -(ChartDays-1)), today)
	}
	if err != nil {
		return Overview{}, err
	}
	recent, err := s.store.UsagePage(ctx, f)
	if err != nil {
		return Overview{}, err
	}
	packs, err := s.store.ListPacks(ctx, false)
	if err != nil {
		return Overview{}, err
	}
	names := s.ActionNames(now)
	o := Overview{Now: now, Account: acc, Plan: plan, Balance: bal, Recent: recent,
		SpentThisPeriod: acc.SpentThisPeriod(now), SpendLimit: acc.SpendLimit, SpendLimitMode: acc.SpendLimitMode,
		PeriodResetsAt: acc.PeriodResetsAt(now), Names: names}
	o.ExpiringSoon, o.NextExpiry = expiringWithin(bal.Grants, now, ExpiringDays)
	o.MostUsed = mostUsed(rows, names, bal.Available)
	o.RunOut = projectRunOut(rows, bal.Available, now)
	o.Chart = BuildUsageChart(rows, today, ChartDays, names)
	o.Low = lowBalance(acc, bal.Available, o.RunOut, packs)
	return o, nil
}

// ActionNames maps action keys to display names from the price book in effect at now.
func (s *Service) ActionNames(now time.Time) map[string]string {
	out := map[string]string{}
	if b, err := s.live.Current(now); err == nil {
		for _, a := range b.Actions() {
			out[a.Key] = a.Name
		}
	}
	return out
}

func utcDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// expiringWithin sums what usable grants hold that expires within days of now.
func expiringWithin(gs []Grant, now time.Time, days int) (Credits, *time.Time) {
	limit := now.AddDate(0, 0, days)
	var sum Credits
	var next *time.Time
	for _, g := range gs {
		if g.ExpiresAt == nil || g.ExpiresAt.After(limit) || !g.usable(now) {
			continue
		}
		sum += g.Remaining
		if next == nil || g.ExpiresAt.Before(*next) {
			t := *g.ExpiresAt
			next = &t
		}
	}
	return sum, next
}

// mostUsed picks the action with the most events (ties: more credits, then key).
func mostUsed(rows []DailyUsage, names map[string]string, available Credits) *MostUsed {
	by := map[string]*MostUsed{}
	for _, r := range rows {
		m := by[r.Action]
		if m == nil {
			m = &MostUsed{Action: r.Action, Name: nameOr(names, r.Action)}
			by[r.Action] = m
		}
		m.Events += r.Events
		m.Credits += r.Credits
	}
	var best *MostUsed
	for _, m := range by {
		if m.Events == 0 {
			continue
		}
		if best == nil || m.Events > best.Events || (m.Events == best.Events &&
			(m.Credits > best.Credits || (m.Credits == best.Credits && m.Action < best.Action))) {
			best = m
		}
	}
	if best == nil {
		return nil
	}
	best.Average = divRound(best.Credits, best.Events)
	best.Covers, best.Free = Covers(available, best.Average)
	return best
}

func nameOr(names map[string]string, key string) string {
	if n := names[key]; n != "" {
		return n
	}
	return key
}

// divRound is c / n rounded half up (c >= 0, n > 0).
func divRound(c Credits, n int64) Credits {
	return Credits((int64(c) + n/2) / n)
}

// Covers is how many actions costing each the available balance pays for, rounded down.
// free is true when each is 0 (the balance does not limit it).
func Covers(available, each Credits) (n int64, free bool) {
	switch {
	case each <= 0:
		return 0, true
	case available <= 0:
		return 0, false
	}
	return int64(available / each), false
}

// projectRunOut spreads what the account spent from the start of the UTC day BurnWindowDays-1
// days ago until now over that time, and projects the available balance forward at that pace.
func projectRunOut(rows []DailyUsage, available Credits, now time.Time) RunOut {
	since := utcDay(now).AddDate(0, 0, -(BurnWindowDays - 1))
	r := RunOut{Since: since, Empty: available <= 0}
	for _, d := range rows {
		if !d.Day.Before(since) {
			r.Burned += d.Credits
		}
	}
	elapsed := int64(now.Sub(since) / time.Second)
	if r.Burned <= 0 || elapsed <= 0 {
		return r
	}
	r.PerDay = Credits(mulDiv(uint64(r.Burned), 86400, uint64(elapsed)))
	if r.Empty {
		return r
	}
	const year = 365 * 86400
	secs, ok := mulDivOK(uint64(available), uint64(elapsed), uint64(r.Burned))
	if !ok || secs > year {
		r.Beyond = true
		return r
	}
	at := now.Add(time.Duration(secs) * time.Second)
	r.At = &at
	r.DaysTil = int(secs / 86400)
	return r
}

// mulDiv is a*b/c with a 128-bit intermediate, saturating on overflow.
func mulDiv(a, b, c uint64) uint64 {
	v, ok := mulDivOK(a, b, c)
	if !ok {
		return 1<<63 - 1
	}
	return v
}

func mulDivOK(a, b, c uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return 0, false
	}
	q, _ := bits.Div64(hi, lo, c)
	return q, q < 1<<63
}

// LowRunOutDays: a projected run-out this close shows the top-up banner.
const LowRunOutDays = 7

// lowBalance shows the banner when nothing is available, when available is under the
// account's low-balance threshold (set, or 10% of the last top-up), or when the recent pace
// runs the balance out within LowRunOutDays. The suggested pack covers 30 days at that pace.
func lowBalance(acc Account, available Credits, r RunOut, packs []Pack) LowBalance {
	l := LowBalance{Threshold: acc.lowBalanceThreshold()}
	switch {
	case available <= 0:
		l.Show, l.Reason = true, "empty"
	case l.Threshold > 0 && available < l.Threshold:
		l.Show, l.Reason = true, "threshold"
	case r.At != nil && r.DaysTil < LowRunOutDays:
		l.Show, l.Reason = true, "runout"
	}
	l.Pack = suggestPack(packs, r.PerDay*30)
	return l
}

// suggestPack is the smallest active pack holding at least need credits, else the largest.
func suggestPack(packs []Pack, need Credits) *Pack {
	var active []Pack
	for _, p := range packs {
		if p.Active {
			active = append(active, p)
		}
	}
	if len(active) == 0 {
		return nil
	}
	sort.SliceStable(active, func(i, j int) bool {
		return active[i].Credits+active[i].BonusCredits < active[j].Credits+active[j].BonusCredits
	})
	for i := range active {
		if active[i].Credits+active[i].BonusCredits >= need {
			return &active[i]
		}
	}
	return &active[len(active)-1]
}
