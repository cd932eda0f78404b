package billing

import "time"

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
