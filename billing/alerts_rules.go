package billing

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Audit actions of alert rules.
const (
	AuditAlertCreate = "alert_rule.create"
	AuditAlertUpdate = "alert_rule.update"
	AuditAlertDelete = "alert_rule.delete"
)

// maxAlertRules bounds an account's rules (each is evaluated with every ledger write).
const maxAlertRules = 50

// AlertRuleInput creates or changes a rule. Threshold is as people write it: credits for
// balance_below ("12.5"), a whole percent or number of days otherwise, empty for the failure
// kinds. Enabled nil keeps the rule's (a new rule is enabled).
type AlertRuleInput struct {
	Kind      string
	Threshold string
	Channels  []string
	Enabled   *bool
	// MemberID names the member of a member_spend_percent rule (field member_id).
	MemberID string
}

// AlertThresholdText is a rule's threshold as AlertRuleInput takes it.
func AlertThresholdText(r AlertRule) string {
	switch r.Kind {
	case AlertBalanceBelow:
		return Credits(r.Threshold).String()
	case AlertRechargeFailed, AlertPaymentFailed:
		return ""
	}
	return strconv.FormatInt(r.Threshold, 10)
}

// parseAlertRule checks in into v and returns the threshold in the kind's unit.
func parseAlertRule(v *Validation, in *AlertRuleInput) int64 {
	in.Threshold = strings.TrimSpace(in.Threshold)
	whole := func(lo, hi int64, unit string) int64 {
		n, err := strconv.ParseInt(in.Threshold, 10, 64)
		if err != nil || n < lo || n > hi {
			v.Add("threshold", "Must be a whole %s from %d to %d.", unit, lo, hi)
		}
		return n
	}
	var th int64
	switch in.Kind {
	case AlertBalanceBelow:
		c, err := ParseCredits(in.Threshold)
		if err != nil {
			v.Add("threshold", "Must be credits, e.g. 100 or 12.5 (at most 3 decimals).")
		} else if err := CheckCreditInput("threshold", c, false); err != nil {
			v.Add("threshold", "%s", ErrorMessage(err))
		}
		th = int64(c)
	case AlertBalanceBelowPercent:
		th = whole(1, 100, "percent")
	case AlertSpendPercent:
		th = whole(1, 1000, "percent")
	case AlertMemberSpendPercent:
		th = whole(1, 1000, "percent")
		if in.MemberID == "" {
			v.Add("member_id", "Required: the member (mem_...) whose monthly limit the rule watches.")
		}
	case AlertCreditsExpiring:
		th = whole(1, 365, "number of days")
	case AlertRechargeFailed, AlertPaymentFailed:
		if in.Threshold != "" && in.Threshold != "0" {
			v.Add("threshold", "This kind has no threshold; leave it empty.")
		}
	case "":
		v.Add("kind", "Required: one of %s.", strings.Join(AlertKinds, ", "))
	default:
		v.Add("kind", "Must be one of %s.", strings.Join(AlertKinds, ", "))
	}
	seen := map[string]bool{}
	var chans []string
	for _, ch := range in.Channels {
		ch = strings.TrimSpace(ch)
		switch ch {
		case ChannelInApp, ChannelEmail, ChannelWebhook:
			if !seen[ch] {
				seen[ch] = true
				chans = append(chans, ch)
			}
		default:
			v.Add("channels", "Each channel must be one of %s.", strings.Join(AlertChannels, ", "))
			return th
		}
	}
	if len(chans) == 0 {
		v.Add("channels", "Pick at least one channel.")
	}
	in.Channels = chans
	return th
}

// AlertRules lists an account's rules, oldest first.
func (s *Service) AlertRules(ctx context.Context, accountID string) ([]AlertRule, error) {
	return s.store.ListAlertRules(ctx, accountID)
}

// CreateAlertRule adds a rule, audited. Errors: invalid_request (naming the field), not_found.
func (s *Service) CreateAlertRule(ctx context.Context, accountID string, in AlertRuleInput, op Op) (AlertRule, error) {
	var v Validation
	th := parseAlertRule(&v, &in)
	if err := v.Err(); err != nil {
		return AlertRule{}, err
	}
	now := s.Now()
	r := AlertRule{ID: NewID("alr"), AccountID: accountID, Kind: in.Kind, Threshold: th, Channels: in.Channels,
		Enabled: in.Enabled == nil || *in.Enabled, CreatedAt: now, UpdatedAt: now}
	if in.Kind == AlertMemberSpendPercent {
		r.MemberID = &in.MemberID
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		// First: it locks the account, so no ledger write decides against the old rules.
		if err := tx.TouchAccount(ctx, accountID); err != nil {
			return err
		}
		if r.MemberID != nil {
			if _, err := tx.TeamMember(ctx, accountID, *r.MemberID, time.Time{}); ErrorCode(err) == ENotFound {
				return FieldError("member_id", "No member %s in this account.", *r.MemberID)
			} else if err != nil {
				return err
			}
		}
		if n, err := tx.AlertRulesFor(ctx, []string{accountID}); err != nil {
			return err
		} else if len(n) >= maxAlertRules {
			return FieldError("kind", "An account may have at most %d enabled rules; delete one first.", maxAlertRules)
		}
		if err := tx.InsertAlertRules(ctx, []AlertRule{r}); err != nil {
			return err
		}
		return s.audit(ctx, tx, s.alertOp(op, "alert rule added"), AuditAlertCreate, accountID, "", nil, alertSnapshot(r))
	})
	s.ledger.drop([]string{accountID}) // stale here at once; other instances find out at commit
	if err != nil {
		return AlertRule{}, err
	}
	return r, nil
}

// UpdateAlertRule changes a rule's threshold, channels or enabled flag (its kind stays); a new
// threshold or enabled flag clears its state, so the next ledger write decides afresh. Audited. Errors: invalid_request,
// not_found.
func (s *Service) UpdateAlertRule(ctx context.Context, accountID, ruleID string, in AlertRuleInput, op Op) (AlertRule, error) {
	var out AlertRule
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.TouchAccount(ctx, accountID); err != nil {
			return err
		}
		r, err := tx.AlertRuleForUpdate(ctx, accountID, ruleID)
		if err != nil {
			return err
		}
		in.Kind = r.Kind
		var v Validation
		th := parseAlertRule(&v, &in)
		if err := v.Err(); err != nil {
			return err
		}
		before := alertSnapshot(r)
		wasThreshold, wasEnabled := r.Threshold, r.Enabled
		r.Threshold, r.Channels, r.UpdatedAt = th, in.Channels, s.Now()
		if in.Enabled != nil {
			r.Enabled = *in.Enabled
		}
		// A new threshold or a switch on/off decides afresh; a change of channels alone keeps a
		// firing rule firing, so it does not speak again for the same crossing.
		if r.Threshold != wasThreshold || r.Enabled != wasEnabled {
			r.Firing = false
		}
		if err := tx.UpdateAlertRule(ctx, r); err != nil {
			return err
		}
		out = r
		return s.audit(ctx, tx, s.alertOp(op, "alert rule changed"), AuditAlertUpdate, accountID, "", before, alertSnapshot(r))
	})
	s.ledger.drop([]string{accountID})
	return out, err
}

// DeleteAlertRule removes a rule, audited. Errors: not_found.
func (s *Service) DeleteAlertRule(ctx context.Context, accountID, ruleID string, op Op) error {
	defer s.ledger.drop([]string{accountID})
	return s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.TouchAccount(ctx, accountID); err != nil {
			return err
		}
		r, err := tx.AlertRuleForUpdate(ctx, accountID, ruleID)
		if err != nil {
			return err
		}
		if err := tx.DeleteAlertRule(ctx, ruleID); err != nil {
			return err
		}
		return s.audit(ctx, tx, s.alertOp(op, "alert rule deleted"), AuditAlertDelete, accountID, "", alertSnapshot(r), nil)
	})
}

// alertOp gives a customer's change a reason when none was asked for.
func (s *Service) alertOp(op Op, reason string) Op {
	if strings.TrimSpace(op.Reason) == "" {
		op.Reason = reason
	}
	return op
}

// AlertSnapshot is a rule as the audit log and the API show it.
type AlertSnapshot struct {
	ID        string   `json:"id"`
	Kind      string   `json:"kind"`
	Threshold string   `json:"threshold"`
	Channels  []string `json:"channels"`
	Enabled   bool     `json:"enabled"`
}

func alertSnapshot(r AlertRule) AlertSnapshot {
	return AlertSnapshot{ID: r.ID, Kind: r.Kind, Threshold: AlertThresholdText(r), Channels: r.Channels, Enabled: r.Enabled}
}

// AlertRuleSummary says what a rule watches, for pages and mail.
func AlertRuleSummary(r AlertRule) string {
	switch r.Kind {
	case AlertBalanceBelow:
		return "Available balance below " + Credits(r.Threshold).String() + " credits"
	case AlertBalanceBelowPercent:
		return "Available balance below " + strconv.FormatInt(r.Threshold, 10) + "% of the last top-up"
	case AlertSpendPercent:
		return "Spend at " + strconv.FormatInt(r.Threshold, 10) + "% of the monthly spend limit"
	case AlertCreditsExpiring:
		return "Credits expiring within " + strconv.FormatInt(r.Threshold, 10) + " days"
	case AlertRechargeFailed:
		return "An auto-recharge fails"
	case AlertPaymentFailed:
		return "A subscription payment fails"
	}
	return r.Kind
}

// AlertKindLabel names a kind in forms, with the unit its threshold takes.
func AlertKindLabel(kind string) string {
	switch kind {
	case AlertBalanceBelow:
		return "Balance below (credits)"
	case AlertBalanceBelowPercent:
		return "Balance below (% of last top-up)"
	case AlertSpendPercent:
		return "Spend reaches (% of spend limit)"
	case AlertCreditsExpiring:
		return "Credits expiring within (days)"
	case AlertRechargeFailed:
		return "Auto-recharge failed"
	case AlertPaymentFailed:
		return "Payment failed"
	}
	return kind
}

// mayManageAlerts refuses members (not_found): only owners and admins change an account's alert rules.
func mayManageAlerts(role string) error { return Authorize(role, ActManageLimits) }

// CreateCustomerAlertRule is CreateAlertRule from the portal by a member of role.
// Errors: not_found (role), and CreateAlertRule's.
func (s *Service) CreateCustomerAlertRule(ctx context.Context, accountID, role string, in AlertRuleInput, op Op) (AlertRule, error) {
	if err := mayManageAlerts(role); err != nil {
		return AlertRule{}, err
	}
	return s.CreateAlertRule(ctx, accountID, in, op)
}

// UpdateCustomerAlertRule is UpdateAlertRule from the portal by a member of role.
// Errors: not_found (role), and UpdateAlertRule's.
func (s *Service) UpdateCustomerAlertRule(ctx context.Context, accountID, role, ruleID string, in AlertRuleInput, op Op) (AlertRule, error) {
	if err := mayManageAlerts(role); err != nil {
		return AlertRule{}, err
	}
	return s.UpdateAlertRule(ctx, accountID, ruleID, in, op)
}

// DeleteCustomerAlertRule is DeleteAlertRule from the portal by a member of role.
// Errors: not_found (role), and DeleteAlertRule's.
func (s *Service) DeleteCustomerAlertRule(ctx context.Context, accountID, role, ruleID string, op Op) error {
	if err := mayManageAlerts(role); err != nil {
		return err
	}
	return s.DeleteAlertRule(ctx, accountID, ruleID, op)
}
