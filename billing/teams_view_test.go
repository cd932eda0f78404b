package billing

import (
	"testing"
	"time"
)

func TestLimitPercent(t *testing.T) {
	lim := func(c Credits) *Credits { return &c }
	for _, tc := range []struct {
		spent Credits
		limit *Credits
		want  int
	}{
		{10 * Credit, nil, 0},
		{10 * Credit, lim(0), 0},
		{0, lim(50 * Credit), 0},
		{25 * Credit, lim(50 * Credit), 50},
		{49999, lim(50 * Credit), 99},
		{50 * Credit, lim(50 * Credit), 100},
		{80 * Credit, lim(50 * Credit), 100},
		{-5 * Credit, lim(50 * Credit), 0},
	} {
		if got := LimitPercent(tc.spent, tc.limit); got != tc.want {
			t.Errorf("LimitPercent(%v, %v) = %d, want %d", tc.spent, tc.limit, got, tc.want)
		}
	}
}

// MemberUsageChart stacks members like actions: named by name (else email), the largest
// first, past ChartSeriesMax the rest as "Other members", totals exact.
func TestMemberUsageChart(t *testing.T) {
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	var members []Member
	var rows []MemberUsageDay
	for i, id := range []string{"mem_a", "mem_b", "mem_c", "mem_d", "mem_e", "mem_f"} {
		m := Member{ID: id, Email: id + "@example.com"}
		if i == 0 {
			m.Name = "Ann"
		}
		members = append(members, m)
		rows = append(rows, MemberUsageDay{MemberID: id, Day: day.AddDate(0, 0, -i), Credits: Credits(10-i) * Credit})
	}
	rows = append(rows, MemberUsageDay{MemberID: "mem_gone", Day: day, Credits: Credit})
	c := MemberUsageChart(rows, members, day, 30)
	if len(c.Days) != 30 || c.Total != (10+9+8+7+6+5+1)*Credit {
		t.Fatalf("days %d, total %v", len(c.Days), c.Total)
	}
	if c.Series[0].Name != "Ann" || c.Series[1].Name != "mem_b@example.com" {
		t.Fatalf("series names %q, %q", c.Series[0].Name, c.Series[1].Name)
	}
	last := c.Series[len(c.Series)-1]
	if len(c.Series) != ChartSeriesMax+1 || last.Name != "Other members" || last.Total != (6+5+1)*Credit {
		t.Fatalf("series %+v", c.Series)
	}
}
