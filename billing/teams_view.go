package billing

import (
	"context"
	"time"
)

// Read-only helpers for the team pages (owned by the pages' side; no rule lives here).

// MemberUsageChart lays members' daily credits out as the usage chart does actions: one
// stacked series per member (largest first, the rest as "Other members"), days consecutive UTC
// days ending with last. Members unknown to the list (removed since) are named by their id.
func MemberUsageChart(rows []MemberUsageDay, members []Member, last time.Time, days int) UsageChart {
	names := make(map[string]string, len(members))
	for _, m := range members {
		names[m.ID] = MemberLabel(m)
	}
	daily := make([]DailyUsage, 0, len(rows))
	for _, r := range rows {
		daily = append(daily, DailyUsage{Day: r.Day, Action: r.MemberID, Credits: r.Credits})
	}
	c := BuildUsageChart(daily, last, days, names)
	for i := range c.Series {
		if c.Series[i].Key == "other" {
			c.Series[i].Name = "Other members"
		}
	}
	return c
}

// MemberLabel is how a member is named on a page: their name, else their email.
func MemberLabel(m Member) string {
	if m.Name != "" {
		return m.Name
	}
	return m.Email
}

// LimitPercent is spent as a whole percentage of limit (0 without a limit, at most 100).
func LimitPercent(spent Credits, limit *Credits) int {
	if limit == nil || *limit <= 0 {
		return 0
	}
	p := int64(spent) * 100 / int64(*limit)
	return int(min(max(p, 0), 100))
}

// OverviewAs is the overview as the membership m may see it: owners and admins see the whole
// account's; a member sees the balance, and only their own usage (chart, recent events) and
// their own spend against their own monthly limit. Errors: as Overview, Team, TeamUsage.
func (s *Service) OverviewAs(ctx context.Context, acc Account, m Membership) (Overview, error) {
	o, err := s.Overview(ctx, acc)
	if err != nil || Can(m.Role, ActViewAllUsage) {
		return o, err
	}
	t, err := s.Team(ctx, acc, m)
	if err != nil {
		return Overview{}, err
	}
	days, err := s.TeamUsage(ctx, acc, m, ChartDays)
	if err != nil {
		return Overview{}, err
	}
	l, err := s.UsageListing(ctx, UsageFilter{AccountID: acc.ID, Limit: RecentEvents, Viewer: &m}, false)
	if err != nil {
		return Overview{}, err
	}
	o.Recent, o.MostUsed = l.Events, nil
	o.Chart = MemberUsageChart(days, t.Members, o.Now, ChartDays)
	o.SpentThisPeriod, o.SpendLimit, o.SpendLimitMode = t.Actor.SpentThisPeriod, t.Actor.MonthlyLimit, SpendHard
	return o, nil
}
