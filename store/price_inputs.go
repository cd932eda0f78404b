package store

import (
	"context"
	"database/sql"
	"time"

	"creditline/billing/simulate"
)

// priceAttrs is an event's attributes as the rollup keeps them: prompt_hash, evidence for the
// abuse rules and never a price input, taken out (it would make every prompt a group).
const priceAttrs = `CASE WHEN u.prompt_hash <> '' THEN (u.attributes::jsonb - 'prompt_hash')::text ELSE u.attributes::text END`

// foldPriceInputsSQL rebuilds up to $3 stale slices (account, day, action, model) of the days [$1, $2)
// in one statement, so usage_daily (written in the same statement as the events it counts)
// and usage_events are read from one snapshot: the figures saved with a slice are those of
// exactly the events folded into it. Each slice is read through usage_account_action_model_idx.
const foldPriceInputsSQL = `WITH
stale AS MATERIALIZED (
	SELECT d.account_id, d.day, d.action, d.model, d.events, d.credits, d.vendor_cost_micro_usd
	FROM usage_daily d LEFT JOIN usage_price_slices s USING (account_id, day, action, model)
	WHERE d.day >= $1::date AND d.day < $2::date
		AND (s.account_id IS NULL OR (s.events, s.credits, s.vendor_cost_micro_usd) <> (d.events, d.credits, d.vendor_cost_micro_usd))
	ORDER BY d.day, d.account_id, d.action, d.model
	LIMIT $3
),
del AS (
	DELETE FROM usage_price_inputs r USING stale x
	WHERE r.account_id = x.account_id AND r.day = x.day AND r.action = x.action AND r.model = x.model
),
ins AS (
	INSERT INTO usage_price_inputs (account_id, day, action, model, hour, quantities, attributes, batch, events, credits,
		vendor_cost_micro_usd)
	SELECT x.account_id, x.day, x.action, x.model, u.hour, u.quantities, u.attributes, u.batch, count(*), sum(u.credits),
		sum(u.cost)
	FROM stale x, LATERAL (
		SELECT extract(hour FROM u.occurred_at AT TIME ZONE 'UTC')::smallint AS hour, u.quantities::text AS quantities,
			` + priceAttrs + ` AS attributes, u.batch, u.credits, u.vendor_cost_micro_usd AS cost
		FROM usage_events u
		WHERE u.account_id = x.account_id AND u.action = x.action AND u.model = x.model
			AND u.occurred_at >= (x.day::timestamp AT TIME ZONE 'UTC') AND u.occurred_at < ((x.day + 1)::timestamp AT TIME ZONE 'UTC')
	) u
	GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
	RETURNING events
),
up AS (
	INSERT INTO usage_price_slices AS s (account_id, day, action, model, events, credits, vendor_cost_micro_usd, folded_at)
	SELECT account_id, day, action, model, events, credits, vendor_cost_micro_usd, $4 FROM stale
	ON CONFLICT (account_id, day, action, model) DO UPDATE SET events = excluded.events, credits = excluded.credits,
		vendor_cost_micro_usd = excluded.vendor_cost_micro_usd, folded_at = excluded.folded_at
)
SELECT (SELECT count(*) FROM stale), COALESCE((SELECT sum(events) FROM ins), 0)::bigint`

// FoldPriceInputs folds up to max stale slices of the days [from, to) (UTC dates) and forgets
// the slices of days before from; ok is false when another instance is folding now.
func (s *Store) FoldPriceInputs(ctx context.Context, from, to time.Time, max int, now time.Time) (res simulate.FoldBatch, ok bool, err error) {
	err = s.inTx(ctx, func(t *tx) error {
		var id int
		err := t.tx.GetContext(ctx, &id, `SELECT id FROM usage_price_fold WHERE id = 1 FOR UPDATE SKIP LOCKED`)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return mapErr("fold price inputs lock", err)
		}
		ok = true
		f, tday := from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly)
		for _, q := range []string{`DELETE FROM usage_price_inputs WHERE day < $1::date`, `DELETE FROM usage_price_slices WHERE day < $1::date`} {
			if _, err := t.tx.ExecContext(ctx, q, f); err != nil {
				return mapErr("fold price inputs forget", err)
			}
		}
		if _, err := t.tx.ExecContext(ctx, `SET LOCAL work_mem = '64MB'`); err != nil {
			return mapErr("fold price inputs", err)
		}
		if err := t.tx.QueryRowxContext(ctx, foldPriceInputsSQL, f, tday, max, now.UTC()).Scan(&res.Slices, &res.Events); err != nil {
			return mapErr("fold price inputs", err)
		}
		_, err = t.tx.ExecContext(ctx, `UPDATE usage_price_fold SET folded_at = $1 WHERE id = 1`, now.UTC())
		return mapErr("fold price inputs", err)
	})
	return res, ok, err
}

var _ simulate.FoldStore = (*Store)(nil)
