package store

import (
	"context"
	"time"

	"creditline/billing"
	"github.com/lib/pq"
)

const rechargeSettingsCols = `account_id, enabled, threshold, pack_key, monthly_cap_count, monthly_cap_amount, currency,
	consecutive_declines, backoff_until, disabled_reason, updated_at`

func (s *Store) AutoRechargeSettingsOf(ctx context.Context, accountID string) (billing.AutoRechargeSettings, error) {
	var out billing.AutoRechargeSettings
	err := s.db.GetContext(ctx, &out, `SELECT `+rechargeSettingsCols+` FROM autorecharge_settings WHERE account_id = $1`, accountID)
	return out, mapErr("auto-recharge settings", err)
}

func (t *tx) AutoRechargeSettingsForUpdate(ctx context.Context, accountID string) (billing.AutoRechargeSettings, error) {
	var out billing.AutoRechargeSettings
	err := t.tx.GetContext(ctx, &out, `SELECT `+rechargeSettingsCols+` FROM autorecharge_settings WHERE account_id = $1 FOR UPDATE`, accountID)
	return out, mapErr("auto-recharge settings", err)
}

func (t *tx) SaveAutoRechargeSettings(ctx context.Context, s billing.AutoRechargeSettings) error {
	_, err := t.tx.NamedExecContext(ctx, `INSERT INTO autorecharge_settings (`+rechargeSettingsCols+`)
		VALUES (:account_id, :enabled, :threshold, :pack_key, :monthly_cap_count, :monthly_cap_amount, :currency,
			:consecutive_declines, :backoff_until, :disabled_reason, :updated_at)
		ON CONFLICT (account_id) DO UPDATE SET enabled = EXCLUDED.enabled, threshold = EXCLUDED.threshold,
			pack_key = EXCLUDED.pack_key, monthly_cap_count = EXCLUDED.monthly_cap_count,
			monthly_cap_amount = EXCLUDED.monthly_cap_amount, currency = EXCLUDED.currency,
			consecutive_declines = EXCLUDED.consecutive_declines, backoff_until = EXCLUDED.backoff_until,
			disabled_reason = EXCLUDED.disabled_reason, updated_at = EXCLUDED.updated_at`, s)
	return mapErr("save auto-recharge settings", err)
}

func (t *tx) RechargeCandidates(ctx context.Context, accountIDs []string, now time.Time) ([]billing.AutoRechargeSettings, error) {
	var out []billing.AutoRechargeSettings
	err := t.tx.SelectContext(ctx, &out, `SELECT `+rechargeSettingsCols+` FROM autorecharge_settings s
		WHERE s.account_id = ANY($1) AND s.enabled AND (s.backoff_until IS NULL OR s.backoff_until <= $2)
			AND NOT EXISTS (SELECT 1 FROM recharges r WHERE r.account_id = s.account_id
				AND r.status IN ('pending', 'processing', 'requires_action'))
		ORDER BY s.account_id`, pq.Array(accountIDs), now)
	return out, mapErr("recharge candidates", err)
}

const rechargeCols = `id, account_id, pack_key, packs, credits, amount, currency, status, payment_intent, failure, action_url, created_at, updated_at`

func (t *tx) InFlightRecharge(ctx context.Context, accountID string) (billing.Recharge, error) {
	var r billing.Recharge
	err := t.tx.GetContext(ctx, &r, `SELECT `+rechargeCols+` FROM recharges
		WHERE account_id = $1 AND status IN ('pending', 'processing', 'requires_action')`, accountID)
	return r, mapErr("recharge in flight", err)
}

func (t *tx) InsertRecharge(ctx context.Context, r billing.Recharge) error {
	_, err := t.tx.NamedExecContext(ctx, `INSERT INTO recharges (`+rechargeCols+`)
		VALUES (:id, :account_id, :pack_key, :packs, :credits, :amount, :currency, :status, :payment_intent, :failure,
			:action_url, :created_at, :updated_at)`, r)
	return mapErr("insert recharge", err)
}

func (t *tx) SetRecharge(ctx context.Context, r billing.Recharge) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE recharges SET status = $2, payment_intent = $3, failure = $4, action_url = $5,
		updated_at = $6 WHERE id = $1`, r.ID, r.Status, r.PaymentIntent, r.Failure, r.ActionURL, r.UpdatedAt)
	return affected("set recharge", res, err)
}

func (t *tx) RechargeForUpdate(ctx context.Context, id string) (billing.Recharge, error) {
	var r billing.Recharge
	err := t.tx.GetContext(ctx, &r, `SELECT `+rechargeCols+` FROM recharges WHERE id = $1 FOR UPDATE`, id)
	return r, mapErr("recharge", err)
}

func (t *tx) RechargesSince(ctx context.Context, accountID string, since time.Time) (int, int64, error) {
	var row struct {
		N   int   `db:"n"`
		Sum int64 `db:"total"`
	}
	err := t.tx.GetContext(ctx, &row, `SELECT count(*) AS n, COALESCE(sum(amount), 0) AS total FROM recharges
		WHERE account_id = $1 AND created_at >= $2 AND status <> 'failed'`, accountID, since)
	return row.N, row.Sum, mapErr("recharges since", err)
}

func (s *Store) ListRecharges(ctx context.Context, accountID string, limit int) ([]billing.Recharge, error) {
	var out []billing.Recharge
	err := s.db.SelectContext(ctx, &out, `SELECT `+rechargeCols+` FROM recharges WHERE account_id = $1
		ORDER BY created_at DESC, id LIMIT $2`, accountID, limit)
	return out, mapErr("list recharges", err)
}

func (s *Store) RechargeByID(ctx context.Context, id string) (billing.Recharge, error) {
	var r billing.Recharge
	err := s.db.GetContext(ctx, &r, `SELECT `+rechargeCols+` FROM recharges WHERE id = $1`, id)
	return r, mapErr("recharge", err)
}

func (t *tx) AutoRechargeAccounts(ctx context.Context) ([]string, error) {
	var ids []string
	err := t.tx.SelectContext(ctx, &ids, `SELECT account_id FROM autorecharge_settings WHERE enabled`)
	return ids, mapErr("auto-recharge accounts", err)
}
