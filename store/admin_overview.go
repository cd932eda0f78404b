package store

import (
	"context"
	"time"

	"creditline/billing"
)

// The console overview: platform-wide sums over grants, payments, the daily rollups and the
// expiry entries (through the partial index of 0012), never over usage events.

func (s *Store) PeriodTotals(ctx context.Context, from, to time.Time) (billing.PeriodTotals, error) {
	var t billing.PeriodTotals
	err := s.db.GetContext(ctx, &t, `SELECT
			(SELECT COALESCE(sum(amount), 0)::bigint FROM grants WHERE created_at >= $1 AND created_at < $2) AS issued,
			(SELECT COALESCE(sum(credits), 0)::bigint FROM usage_daily WHERE day >= $3::date AND day < $4::date) AS consumed,
			(SELECT COALESCE(-sum(amount), 0)::bigint FROM ledger_entries WHERE kind = 'expire' AND created_at >= $1 AND created_at < $2) AS expired,
			(SELECT count(DISTINCT account_id) FROM usage_daily WHERE day >= $3::date AND day < $4::date AND events > 0) AS active`,
		from, to, from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly))
	return t, mapErr("period totals", err)
}

func (s *Store) CashByCurrency(ctx context.Context, monthStart, today time.Time) ([]billing.CashIn, error) {
	var out []billing.CashIn
	err := s.db.SelectContext(ctx, &out, `SELECT currency,
			COALESCE(sum(amount) FILTER (WHERE created_at >= $2), 0)::bigint AS today,
			COALESCE(sum(amount), 0)::bigint AS month,
			COALESCE(sum(amount_refunded), 0)::bigint AS month_refunded
		FROM payments WHERE NOT test_mode AND created_at >= $1 GROUP BY currency ORDER BY currency`, monthStart, today)
	return out, mapErr("cash by currency", err)
}

func (s *Store) TopAccounts(ctx context.Context, from time.Time, limit int) ([]billing.TopAccount, error) {
	var out []billing.TopAccount
	err := s.db.SelectContext(ctx, &out, `SELECT a.id, a.name, t.credits, t.events
		FROM (SELECT account_id, sum(credits)::bigint AS credits, sum(events)::bigint AS events
			FROM usage_daily WHERE day >= $1::date GROUP BY account_id ORDER BY 2 DESC, 1 LIMIT $2) t
		JOIN accounts a ON a.id = t.account_id
		ORDER BY t.credits DESC, a.id`, from.UTC().Format(time.DateOnly), limit)
	return out, mapErr("top accounts", err)
}

func (s *Store) PlatformDaily(ctx context.Context, from time.Time) ([]billing.DailyUsage, error) {
	var out []billing.DailyUsage
	err := s.db.SelectContext(ctx, &out, `SELECT day, action, '' AS model, sum(events)::bigint AS events, sum(credits)::bigint AS credits
		FROM usage_daily WHERE day >= $1::date GROUP BY day, action ORDER BY day, action`, from.UTC().Format(time.DateOnly))
	for i := range out {
		out[i].Day = out[i].Day.UTC()
	}
	return out, mapErr("platform daily", err)
}
