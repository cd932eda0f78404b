package billing

import (
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCovers(t *testing.T) {
	cases := []struct {
		avail, each Credits
		n           int64
		free        bool
	}{
		{MustCredits("100"), MustCredits("10"), 10, false},
		{MustCredits("99.999"), MustCredits("10"), 9, false},
		{MustCredits("100"), MustCredits("0.9"), 111, false},
		{0, MustCredits("1"), 0, false},
		{MustCredits("-5"), MustCredits("1"), 0, false},
		{MustCredits("5"), 0, 0, true},
	}
	for _, c := range cases {
		n, free := Covers(c.avail, c.each)
		if n != c.n || free != c.free {
			t.Errorf("Covers(%s, %s) = %d, %v; want %d, %v", c.avail, c.each, n, free, c.n, c.free)
		}
	}
}

func TestMostUsedUsesTheAccountsOwnAverage(t *testing.T) {
	rows := []DailyUsage{
		{Day: day("2026-03-01"), Action: "chat.completion", Model: "small-open", Events: 10, Credits: MustCredits("9")},
		{Day: day("2026-03-02"), Action: "chat.completion", Model: "gpt-4o", Events: 2, Credits: MustCredits("20")},
		{Day: day("2026-03-02"), Action: "image.generate", Model: "sdxl", Events: 3, Credits: MustCredits("15")},
	}
	m := mostUsed(rows, map[string]string{"chat.completion": "Chat completion"}, MustCredits("100"))
	if m == nil || m.Action != "chat.completion" || m.Name != "Chat completion" || m.Events != 12 {
		t.Fatalf("most used %+v", m)
	}
	// 29 credits over 12 events = 2.41666… → 2.417; 100 / 2.417 = 41.37 → 41.
	if m.Average != MustCredits("2.417") || m.Covers != 41 {
		t.Fatalf("average %s covers %d", m.Average, m.Covers)
	}
	if mostUsed(nil, nil, 100) != nil {
		t.Fatal("no usage must give no most-used action")
	}
	// Ties on events go to the action that cost more.
	tie := []DailyUsage{
		{Day: day("2026-03-01"), Action: "a", Events: 1, Credits: 1000},
		{Day: day("2026-03-01"), Action: "b", Events: 1, Credits: 2000},
	}
	if m := mostUsed(tie, nil, 0); m.Action != "b" || m.Name != "b" || m.Covers != 0 {
		t.Fatalf("tie %+v", m)
	}
}

func TestProjectRunOut(t *testing.T) {
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	since := day("2026-03-07") // 13.5 days before now
	perDay := func(c string) []DailyUsage {
		var rows []DailyUsage
		for d := since.AddDate(0, 0, -3); !d.After(day("2026-03-20")); d = d.AddDate(0, 0, 1) {
			rows = append(rows, DailyUsage{Day: d, Action: "x", Events: 1, Credits: MustCredits(c)})
		}
		return rows
	}
	t.Run("steady pace", func(t *testing.T) {
		// 14 rows in the window of 100 each = 1400 over 13.5 days = 103.703/day.
		r := projectRunOut(perDay("100"), MustCredits("1400"), now)
		if r.Burned != MustCredits("1400") || r.PerDay != MustCredits("103.703") || !r.Since.Equal(since) {
			t.Fatalf("%+v", r)
		}
		// 1400 available at 1400 per 13.5 days: 13.5 days from now.
		want := now.Add(13*24*time.Hour + 12*time.Hour)
		if r.At == nil || !r.At.Equal(want) || r.DaysTil != 13 || r.Empty || r.Beyond {
			t.Fatalf("run-out %+v, want %s", r, want)
		}
	})
	t.Run("no recent usage", func(t *testing.T) {
		old := []DailyUsage{{Day: day("2026-02-01"), Action: "x", Events: 1, Credits: 5000}}
		if r := projectRunOut(old, 1000, now); r.At != nil || r.Burned != 0 || r.Beyond {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("empty now", func(t *testing.T) {
		if r := projectRunOut(perDay("1"), 0, now); !r.Empty || r.At != nil || r.PerDay == 0 {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("beyond a year", func(t *testing.T) {
		if r := projectRunOut(perDay("0.001"), MustCredits("1000000"), now); !r.Beyond || r.At != nil {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("huge balance does not overflow", func(t *testing.T) {
		if r := projectRunOut(perDay("1"), Credits(1<<62), now); !r.Beyond {
			t.Fatalf("%+v", r)
		}
	})
}

func TestBuildUsageChart(t *testing.T) {
	last := day("2026-03-30")
	rows := []DailyUsage{
		{Day: day("2026-03-01"), Action: "a", Credits: 1000}, // first day of a 30-day window
		{Day: day("2026-03-30"), Action: "a", Credits: 2000},
		{Day: day("2026-03-30"), Action: "b", Credits: 500},
		{Day: day("2026-02-28"), Action: "a", Credits: 9000}, // outside
	}
	c := BuildUsageChart(rows, last, 30, map[string]string{"a": "Action A"})
	if len(c.Days) != 30 || !c.Days[0].Day.Equal(day("2026-03-01")) || !c.Days[29].Day.Equal(last) {
		t.Fatalf("days %v..%v", c.Days[0].Day, c.Days[len(c.Days)-1].Day)
	}
	if len(c.Series) != 2 || c.Series[0].Name != "Action A" || c.Series[0].Total != 3000 || c.Series[1].Key != "b" {
		t.Fatalf("series %+v", c.Series)
	}
	if c.Days[0].Total != 1000 || c.Days[29].Total != 2500 || c.Days[29].Parts[1] != 500 || c.Max != 2500 || c.Total != 3500 {
		t.Fatalf("chart %+v", c)
	}
	// More than ChartSeriesMax+1 actions: the smallest are grouped as "other".
	var many []DailyUsage
	for i, k := range []string{"a", "b", "c", "d", "e", "f"} {
		many = append(many, DailyUsage{Day: last, Action: k, Credits: Credits(6000 - i*1000)})
	}
	c = BuildUsageChart(many, last, 30, nil)
	if len(c.Series) != ChartSeriesMax+1 || c.Series[ChartSeriesMax].Key != "other" || c.Series[ChartSeriesMax].Total != 3000 {
		t.Fatalf("series %+v", c.Series)
	}
	if c.Days[29].Parts[ChartSeriesMax] != 3000 || c.Days[29].Total != 21000 {
		t.Fatalf("last day %+v", c.Days[29])
	}
}

func TestLowBalanceAndSuggestedPack(t *testing.T) {
	packs := []Pack{
		{Key: "scale", Credits: 1000 * Credit, Active: true},
		{Key: "starter", Credits: 100 * Credit, Active: true},
		{Key: "old", Credits: 50 * Credit, Active: false},
		{Key: "growth", Credits: 500 * Credit, Active: true},
	}
	soon := time.Now()
	cases := []struct {
		name   string
		acc    Account
		avail  Credits
		r      RunOut
		show   bool
		reason string
		pack   string
	}{
		{"nothing left", Account{}, 0, RunOut{}, true, "empty", "starter"},
		{"under the set threshold", Account{LowBalanceThreshold: ptr(20 * Credit)}, 10 * Credit, RunOut{}, true, "threshold", "starter"},
		{"under 10% of the last top-up", Account{LastTopup: 500 * Credit}, 49 * Credit, RunOut{}, true, "threshold", "starter"},
		{"runs out within a week", Account{}, 100 * Credit, RunOut{At: &soon, DaysTil: 3, PerDay: 30 * Credit}, true, "runout", "scale"},
		{"fine", Account{LastTopup: 500 * Credit}, 400 * Credit, RunOut{At: &soon, DaysTil: 30, PerDay: 10 * Credit}, false, "", "growth"},
		{"pace beyond every pack", Account{}, 400 * Credit, RunOut{PerDay: 100 * Credit}, false, "", "scale"},
	}
	for _, c := range cases {
		l := lowBalance(c.acc, c.avail, c.r, packs)
		if l.Show != c.show || l.Reason != c.reason || l.Pack == nil || l.Pack.Key != c.pack {
			t.Errorf("%s: %+v (pack %v)", c.name, l, l.Pack)
		}
	}
	if suggestPack(nil, 0) != nil {
		t.Error("no packs, no suggestion")
	}
}

func TestExpiringWithin(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(days int) *time.Time { t := now.AddDate(0, 0, days); return &t }
	gs := []Grant{
		{Remaining: 10 * Credit, EffectiveAt: now.AddDate(0, 0, -1), ExpiresAt: at(20)},
		{Remaining: 5 * Credit, EffectiveAt: now.AddDate(0, 0, -1), ExpiresAt: at(3)},
		{Remaining: 7 * Credit, EffectiveAt: now.AddDate(0, 0, -1), ExpiresAt: at(45)},
		{Remaining: 9 * Credit, EffectiveAt: now.AddDate(0, 0, -1)},
	}
	sum, next := expiringWithin(gs, now, 30)
	if sum != 15*Credit || next == nil || !next.Equal(*at(3)) {
		t.Fatalf("sum %s next %v", sum, next)
	}
}

func ptr[T any](v T) *T { return &v }
