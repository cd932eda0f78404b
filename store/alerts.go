package store

import (
	"context"
	"time"

	"github.com/lib/pq"

	"creditline/billing"
)

const alertRuleCols = `id, account_id, kind, threshold, channels, enabled, firing, crossings, fired_at, resolved_at, created_at, updated_at,
	member_id`

type alertRuleRow struct {
	billing.AlertRule
	Channels pq.StringArray `db:"channels"`
}

func alertRules(rows []alertRuleRow) []billing.AlertRule {
	out := make([]billing.AlertRule, len(rows))
	for i, r := range rows {
		out[i] = r.AlertRule
		out[i].Channels = []string(r.Channels)
	}
	return out
}

// Ordered by account: the ledger hands each account its run of rules.
const alertRulesForSQL = `SELECT ` + alertRuleCols + ` FROM alert_rules
	WHERE account_id = ANY($1) AND enabled ORDER BY account_id, created_at, id`

func (t *tx) AlertRulesFor(ctx context.Context, accountIDs []string) ([]billing.AlertRule, error) {
	var rows []alertRuleRow
	if err := t.hot(alertRulesForSQL).Select(ctx, &rows, pq.Array(accountIDs)); err != nil {
		return nil, mapErr("alert rules", err)
	}
	return alertRules(rows), nil
}

// cachedRulesSQL reads what the ledger cache keeps of the enabled rules of accounts (id,
// account, kind, threshold, firing of the kinds in $2: billing's cachedRules).
const cachedRulesSQL = `SELECT id, account_id, kind, threshold, true AS enabled, firing FROM alert_rules
	WHERE account_id = ANY($1) AND enabled AND kind = ANY($2) ORDER BY account_id, id`

func (s *Store) CachedAlertRulesOf(ctx context.Context, accountIDs []string) ([]billing.AlertRule, error) {
	var rules []billing.AlertRule
	if err := s.selectHot(ctx, &rules, cachedRulesSQL, pq.Array(accountIDs), pq.Array(billing.CachedAlertKinds)); err != nil {
		return nil, mapErr("alert rules", err)
	}
	return rules, nil
}

func (s *Store) ListAlertRules(ctx context.Context, accountID string) ([]billing.AlertRule, error) {
	var rows []alertRuleRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+alertRuleCols+` FROM alert_rules WHERE account_id = $1
		ORDER BY created_at, array_position(ARRAY['balance_below', 'balance_below_percent', 'spend_percent', 'credits_expiring',
			'recharge_failed', 'payment_failed'], kind), threshold, id`, accountID); err != nil {
		return nil, mapErr("list alert rules", err)
	}
	return alertRules(rows), nil
}

func (s *Store) AlertRuleByID(ctx context.Context, accountID, ruleID string) (billing.AlertRule, error) {
	var r alertRuleRow
	err := s.db.GetContext(ctx, &r, `SELECT `+alertRuleCols+` FROM alert_rules WHERE account_id = $1 AND id = $2`, accountID, ruleID)
	if err != nil {
		return billing.AlertRule{}, mapErr("alert rule", err)
	}
	return alertRules([]alertRuleRow{r})[0], nil
}

func (t *tx) AlertRuleForUpdate(ctx context.Context, accountID, ruleID string) (billing.AlertRule, error) {
	var r alertRuleRow
	err := t.tx.GetContext(ctx, &r, `SELECT `+alertRuleCols+` FROM alert_rules WHERE account_id = $1 AND id = $2 FOR UPDATE`, accountID, ruleID)
	if err != nil {
		return billing.AlertRule{}, mapErr("alert rule", err)
	}
	return alertRules([]alertRuleRow{r})[0], nil
}

func (t *tx) InsertAlertRules(ctx context.Context, rules []billing.AlertRule) error {
	for _, r := range rules {
		_, err := t.tx.ExecContext(ctx, `INSERT INTO alert_rules (id, account_id, kind, threshold, channels, enabled, created_at, updated_at, member_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, r.ID, r.AccountID, r.Kind, r.Threshold, pq.Array(r.Channels), r.Enabled, r.CreatedAt, r.UpdatedAt, r.MemberID)
		if err != nil {
			return mapErr("insert alert rule", err)
		}
	}
	return nil
}

func (t *tx) UpdateAlertRule(ctx context.Context, r billing.AlertRule) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE alert_rules SET threshold = $2, channels = $3, enabled = $4, updated_at = $5,
		firing = $6 WHERE id = $1`, r.ID, r.Threshold, pq.Array(r.Channels), r.Enabled, r.UpdatedAt, r.Firing)
	return affected("update alert rule", res, err)
}

func (t *tx) DeleteAlertRule(ctx context.Context, ruleID string) error {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM alert_rules WHERE id = $1`, ruleID)
	return affected("delete alert rule", res, err)
}

func (t *tx) TouchAccount(ctx context.Context, accountID string) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE accounts SET version = version WHERE id = $1`, accountID)
	return affected("touch account", res, err)
}

func (t *tx) SetAlertFiring(ctx context.Context, ruleID string, firing bool, at time.Time) (int64, bool, error) {
	var crossings int64
	var err error
	if firing {
		err = t.tx.GetContext(ctx, &crossings, `UPDATE alert_rules SET firing = true, crossings = crossings + 1, fired_at = $2
			WHERE id = $1 AND NOT firing RETURNING crossings`, ruleID, at)
	} else {
		err = t.tx.GetContext(ctx, &crossings, `UPDATE alert_rules SET firing = false, resolved_at = $2
			WHERE id = $1 AND firing RETURNING crossings`, ruleID, at)
	}
	if err != nil {
		if e := mapErr("set alert firing", err); billing.ErrorCode(e) == billing.ENotFound {
			return 0, false, nil
		}
		return 0, false, mapErr("set alert firing", err)
	}
	return crossings, true, nil
}

func (t *tx) InsertAlertNotification(ctx context.Context, n billing.Notification, ruleID string) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO notifications (account_id, kind, level, message, link, key, created_at, rule_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (account_id, key) DO NOTHING`,
		n.AccountID, n.Kind, n.Level, n.Message, n.Link, n.Key, n.CreatedAt, ruleID)
	return mapErr("insert alert notification", err)
}

func (t *tx) ClaimAlertDelivery(ctx context.Context, key string, at time.Time) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO alert_deliveries (key, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, key, at)
	if err != nil {
		return false, mapErr("claim alert delivery", err)
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr("claim alert delivery", err)
}

func (t *tx) ClaimGrantNotice(ctx context.Context, ruleID, grantID string, at time.Time) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO alert_grant_notices (rule_id, grant_id, created_at) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, ruleID, grantID, at)
	if err != nil {
		return false, mapErr("claim grant notice", err)
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr("claim grant notice", err)
}

func (s *Store) ExpiringGrantAlerts(ctx context.Context, now time.Time, limit int) ([]billing.ExpiringGrantAlert, error) {
	var rows []struct {
		alertRuleRow
		GrantID   string          `db:"grant_id"`
		Remaining billing.Credits `db:"remaining"`
		ExpiresAt time.Time       `db:"expires_at"`
	}
	err := s.db.SelectContext(ctx, &rows, `SELECT r.id, r.account_id, r.kind, r.threshold, r.channels, r.enabled, r.firing,
			r.crossings, r.fired_at, r.resolved_at, r.created_at, r.updated_at,
			g.id AS grant_id, g.remaining, g.expires_at
		FROM alert_rules r JOIN grants g ON g.account_id = r.account_id
		WHERE r.kind = 'credits_expiring' AND r.enabled AND g.remaining > 0 AND g.expires_at > $1
			AND g.expires_at <= $1 + make_interval(days => r.threshold::int)
			AND NOT EXISTS (SELECT 1 FROM alert_grant_notices n WHERE n.rule_id = r.id AND n.grant_id = g.id)
		ORDER BY g.expires_at, r.id LIMIT $2`, now, limit)
	if err != nil {
		return nil, mapErr("expiring grant alerts", err)
	}
	out := make([]billing.ExpiringGrantAlert, len(rows))
	for i, r := range rows {
		out[i] = billing.ExpiringGrantAlert{Rule: alertRules([]alertRuleRow{r.alertRuleRow})[0], GrantID: r.GrantID,
			Remaining: r.Remaining, ExpiresAt: r.ExpiresAt}
	}
	return out, nil
}
