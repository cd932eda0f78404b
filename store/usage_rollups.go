package store

import (
	"context"
	"time"

	"creditline/billing"
)

// Dashboard reads: the rollups (usage_daily, primary key account_id, day, action, model) and
// single events, always scoped to one account.

func (s *Store) UsageDaily(ctx context.Context, accountID string, from, to time.Time) ([]billing.DailyUsage, error) {
	var out []billing.DailyUsage
	err := s.db.SelectContext(ctx, &out, `SELECT day, action, model, events, credits FROM usage_daily
		WHERE account_id = $1 AND day BETWEEN $2::date AND $3::date ORDER BY day, action, model`,
		accountID, from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly))
	for i := range out {
		out[i].Day = out[i].Day.UTC()
	}
	return out, mapErr("usage daily", err)
}

// UsageTotals sums rollups; f.From and f.To are taken as whole UTC days (To exclusive).
func (s *Store) UsageTotals(ctx context.Context, f billing.UsageFilter) (int64, billing.Credits, error) {
	var row struct {
		Events  int64           `db:"events"`
		Credits billing.Credits `db:"credits"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT COALESCE(sum(events), 0)::bigint AS events, COALESCE(sum(credits), 0)::bigint AS credits
		FROM usage_daily
		WHERE account_id = $1
			AND ($2 = '' OR action = $2)
			AND ($3 = '' OR model = $3)
			AND ($4::date IS NULL OR day >= $4::date)
			AND ($5::date IS NULL OR day < $5::date)`,
		f.AccountID, f.Action, f.Model, dateOrNil(f.From), dateOrNil(f.To))
	return row.Events, row.Credits, mapErr("usage totals", err)
}

func dateOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.DateOnly)
}

func (s *Store) UsageModels(ctx context.Context, accountID string) ([]string, error) {
	var out []string
	err := s.db.SelectContext(ctx, &out, `SELECT DISTINCT model FROM usage_daily WHERE account_id = $1 AND model <> '' ORDER BY model`, accountID)
	return out, mapErr("usage models", err)
}

func (s *Store) UsageEventOf(ctx context.Context, accountID, id string) (billing.UsageEvent, error) {
	var r usageRow
	if err := s.db.GetContext(ctx, &r, `SELECT `+usageCols+` FROM usage_events WHERE id = $1 AND account_id = $2`, id, accountID); err != nil {
		return billing.UsageEvent{}, mapErr("usage event", err)
	}
	return r.event()
}
