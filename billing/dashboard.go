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
	// VacuumUsage vacuums and analyzes the usage tables after a bulk write.
	VacuumUsage(ctx context.Context) error
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
	now := s.Now()
	bal, err := s.Balance(ctx, acc.ID)
	if err != nil {
		return Overview{}, err
	}
	acc = bal.Account
	plan, err := s.cachedPlan(ctx, acc.PlanKey)
	if err != nil {
		return Overview{}, err
	}
	today := utcDay(now)
	rows, err := s.store.UsageDaily(ctx, acc.ID, today.AddDate(0, 0, -(ChartDays-1)), today)
	if err != nil {
		return Overview{}, err
	}
	recent, err := s.store.UsagePage(ctx, UsageFilter{AccountID: acc.ID, Limit: RecentEvents})
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
		PeriodResetsAt: PeriodResetsAt(now), Names: names}
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
		for _, a := range b.data.Actions {
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

// UsageChart is credits per day and action over a window, for a stacked bar chart.
type UsageChart struct {
	Days   []ChartDay
	Series []ChartSeries // largest first: at most ChartSeriesMax actions, the rest as "other"
	Max    Credits       // the largest day's total
	Total  Credits
}

// ChartSeries is one stacked series.
type ChartSeries struct {
	Key   string // action key, or "other"
	Name  string
	Total Credits
}

// ChartDay is one day's bar; Parts align with the chart's Series.
type ChartDay struct {
	Day   time.Time
	Total Credits
	Parts []Credits
}

// ChartSeriesMax is how many actions a chart shows on their own.
const ChartSeriesMax = 4

// BuildUsageChart lays rollup rows out as days consecutive UTC days ending with last.
func BuildUsageChart(rows []DailyUsage, last time.Time, days int, names map[string]string) UsageChart {
	first := utcDay(last).AddDate(0, 0, -(days - 1))
	totals := map[string]Credits{}
	for _, r := range rows {
		if !r.Day.Before(first) && !r.Day.After(last) {
			totals[r.Action] += r.Credits
		}
	}
	keys := make([]string, 0, len(totals))
	for k := range totals {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if totals[keys[i]] != totals[keys[j]] {
			return totals[keys[i]] > totals[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var c UsageChart
	index := map[string]int{}
	for i, k := range keys {
		if i == ChartSeriesMax && len(keys) > ChartSeriesMax+1 {
			c.Series = append(c.Series, ChartSeries{Key: "other", Name: "Other actions"})
			for _, rest := range keys[i:] {
				index[rest] = i
				c.Series[i].Total += totals[rest]
			}
			break
		}
		index[k] = i
		c.Series = append(c.Series, ChartSeries{Key: k, Name: nameOr(names, k), Total: totals[k]})
	}
	c.Days = make([]ChartDay, days)
	for i := range c.Days {
		c.Days[i] = ChartDay{Day: first.AddDate(0, 0, i), Parts: make([]Credits, len(c.Series))}
	}
	for _, r := range rows {
		i := int(utcDay(r.Day).Sub(first) / (24 * time.Hour))
		if i < 0 || i >= days {
			continue
		}
		c.Days[i].Parts[index[r.Action]] += r.Credits
		c.Days[i].Total += r.Credits
	}
	for _, d := range c.Days {
		c.Max = max(c.Max, d.Total)
		c.Total += d.Total
	}
	return c
}

// UsageSummary is the count and credits of the events a filter selects.
type UsageSummary struct {
	Events  int64
	Credits Credits
}

// UsageTotals sums the events f selects from the rollups. ok is false when f's bounds are
// not whole UTC days (the rollups cannot answer exactly), and nothing is read.
func (s *Service) UsageTotals(ctx context.Context, f UsageFilter) (sum UsageSummary, ok bool, err error) {
	for _, t := range []*time.Time{f.From, f.To} {
		if t != nil && !t.Equal(utcDay(*t)) {
			return UsageSummary{}, false, nil
		}
	}
	n, c, err := s.store.UsageTotals(ctx, f)
	return UsageSummary{Events: n, Credits: c}, err == nil, err
}

// UsageModels lists the models an account has used.
func (s *Service) UsageModels(ctx context.Context, accountID string) ([]string, error) {
	return s.store.UsageModels(ctx, accountID)
}

// UsageEvent returns one of an account's events. Errors: not_found (also for another account's).
func (s *Service) UsageEvent(ctx context.Context, accountID, id string) (UsageEvent, error) {
	ev, err := s.store.UsageEventOf(ctx, accountID, id)
	if ErrorCode(err) == ENotFound {
		return UsageEvent{}, Errorf(ENotFound, "No such usage event in this account.")
	}
	return ev, err
}

// UsageListing is one page of the usage history with what the page shows around it.
type UsageListing struct {
	Events []UsageEvent
	// More says older events match the filter: the next page starts after the last event.
	More bool
	// Summary counts every event the filter selects (SummaryOK false: bounds not whole days).
	Summary   UsageSummary
	SummaryOK bool
	// Models the account has used and the actions' display names, for the filters.
	Models []string
	Names  map[string]string
}

// UsageListing reads one keyset page of f (newest first); with facets, also the filter's
// totals from the rollups and the choices for the filter form.
func (s *Service) UsageListing(ctx context.Context, f UsageFilter, facets bool) (UsageListing, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 50
	}
	limit := f.Limit
	f.Limit++
	evs, err := s.store.UsagePage(ctx, f)
	if err != nil {
		return UsageListing{}, err
	}
	l := UsageListing{Events: evs, Names: s.ActionNames(s.Now())}
	if len(evs) > limit {
		l.Events, l.More = evs[:limit], true
	}
	if !facets {
		return l, nil
	}
	if l.Summary, l.SummaryOK, err = s.UsageTotals(ctx, f); err != nil {
		return UsageListing{}, err
	}
	if l.Models, err = s.store.UsageModels(ctx, f.AccountID); err != nil {
		return UsageListing{}, err
	}
	return l, nil
}

// EachUsage calls fn with successive pages of the events f selects, newest first, until none
// are left or fn fails: an export holds one page in memory at a time.
func (s *Service) EachUsage(ctx context.Context, f UsageFilter, pageSize int, fn func([]UsageEvent) error) error {
	f.Limit = pageSize
	for {
		evs, err := s.store.UsagePage(ctx, f)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		if err := fn(evs); err != nil {
			return err
		}
		if len(evs) < pageSize {
			return nil
		}
		last := evs[len(evs)-1]
		t := last.OccurredAt
		f.AfterTime, f.AfterID = &t, last.ID
	}
}
