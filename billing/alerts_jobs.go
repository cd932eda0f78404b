package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AlertExpiringCredits announces, once per grant and credits_expiring rule, the credits that
// expire within the rule's days (the worker's sweep runs it). It returns how many it announced.
func (s *Service) AlertExpiringCredits(ctx context.Context) (int, error) {
	now := s.Now()
	due, err := s.store.ExpiringGrantAlerts(ctx, now, 500)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		err := s.store.InTx(ctx, func(tx Tx) error {
			ok, err := tx.ClaimGrantNotice(ctx, d.Rule.ID, d.GrantID, now)
			if err != nil || !ok {
				return err
			}
			n++
			exp := d.ExpiresAt
			return deliverAlert(ctx, tx, AlertEvent{Type: AlertFired, Rule: d.Rule, At: now, GrantID: d.GrantID,
				Expiring: d.Remaining, ExpiresAt: &exp})
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// handleAlertEmail writes one alert's mail to the outbox (and its send job), once per event
// however often the job runs: the account's email, else its owner's.
func (s *Service) handleAlertEmail(ctx context.Context, payload json.RawMessage) error {
	var p alertEmailJob
	if err := json.Unmarshal(payload, &p); err != nil {
		return fmt.Errorf("alert email payload: %w", err)
	}
	// The rule as it is now: mail queued before an unsubscribe, a disable or a delete stays unsent.
	r, err := s.store.AlertRuleByID(ctx, p.Account, p.RuleID)
	if ErrorCode(err) == ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if !r.Enabled || !slices.Contains(r.Channels, ChannelEmail) {
		return nil
	}
	acc, err := s.store.AccountByID(ctx, p.Account)
	if ErrorCode(err) == ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	to := acc.Email
	if to == "" {
		ms, err := s.store.AccountMembers(ctx, acc.ID)
		if err != nil {
			return err
		}
		if len(ms) > 0 {
			to = ms[0].Email // owners first
		}
	}
	if to == "" {
		return nil // nobody to write to; the in-app channel still speaks
	}
	now := s.Now()
	return s.store.InTx(ctx, func(tx Tx) error {
		ok, err := tx.ClaimAlertDelivery(ctx, p.Key+":email", now)
		if err != nil || !ok {
			return err
		}
		return s.queueMail(ctx, tx, s.alertMail(to, p, now))
	})
}

// MailAlert is the outbox kind of alert mail.
const MailAlert = "alert"

// alertMail is the message: what happened with its figures, the page to act on (and for a
// failed payment the Stripe portal to fix the card), and the link that turns this rule's email off.
func (s *Service) alertMail(to string, p alertEmailJob, now time.Time) Mail {
	base := strings.TrimRight(s.alertLinks().base, "/")
	c := mailContent{Paras: []string{p.Text}, Figures: p.Figures,
		Unsubscribe: base + "/alerts/unsubscribe?token=" + s.UnsubscribeToken(p.Account, p.RuleID)}
	switch p.Action {
	case "/billing":
		if p.FixCard {
			c.Actions = append(c.Actions, mailLink{"Fix your card in the Stripe billing portal", base + fixCardPath})
		}
		c.Actions = append(c.Actions, mailLink{"Top up or check your payment method", base + "/billing"})
	case "/limits":
		c.Actions = append(c.Actions, mailLink{"Raise your spend limit", base + "/limits"})
	}
	c.Actions = append(c.Actions, mailLink{"Your alerts", base + "/limits/alerts"})
	m := c.mail(MailAlert, to, p.Subject)
	m.CreatedAt = now
	return m
}
