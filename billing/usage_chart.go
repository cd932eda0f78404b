package billing

import (
	"sort"
	"time"
)

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
