package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Dunning: a failed subscription invoice opens a grace period (DunningOptions.Grace). The
// customer is mailed at the failure, three days before the grace ends and at its end; an
// invoice still unpaid then drops the account to the Free plan (no credits are taken) until a
// paid invoice of the subscription restores it. Each step is a durable job that re-checks the
// case under its row lock, so replays, retries and a payment in between make it a no-op.

// DunningOptions configures dunning; the zero value is the default.
type DunningOptions struct {
	// Grace is how long a failed invoice may stay unpaid before the plan drops to Free;
	// 0 is DefaultGrace. An operator setting (DUNNING_GRACE_DAYS).
	Grace time.Duration
	// LinkBase is the portal's public URL (BASE_URL) without a trailing slash; the links in
	// dunning mail start with it. Empty leaves them site-relative (tests).
	LinkBase string
}

// Dunning defaults and bounds.
const (
	DefaultGrace = 7 * 24 * time.Hour
	// graceReminder is how long before the grace ends the reminder goes out.
	graceReminder = 3 * 24 * time.Hour
	// fixCardPath is our route that opens a Stripe billing-portal session (a mail link
	// cannot carry a session, so it leads through sign-in to a fresh one).
	fixCardPath = "/billing/portal"
)

// Dunning job kinds.
const (
	JobDunningReminder = "dunning.reminder"
	JobDunningEnd      = "dunning.end"
)

// Dunning mail kinds.
const (
	MailDunningFailed    = "dunning_failed"
	MailDunningReminder  = "dunning_reminder"
	MailDunningDowngrade = "dunning_downgraded"
	MailDunningRestored  = "dunning_restored"
)

// DunningCase is one subscription's failed payment and where its grace period stands. It is
// open until ResolvedAt is set (a paid invoice, or the subscription ended).
type DunningCase struct {
	SubscriptionID string     `db:"subscription_id"`
	AccountID      string     `db:"account_id"`
	InvoiceID      string     `db:"invoice_id"`
	PlanKey        string     `db:"plan_key"`
	Amount         int64      `db:"amount"`
	Currency       string     `db:"currency"`
	FailedAt       time.Time  `db:"failed_at"`
	GraceEndsAt    time.Time  `db:"grace_ends_at"`
	RemindedAt     *time.Time `db:"reminded_at"`
	DowngradedAt   *time.Time `db:"downgraded_at"`
	ResolvedAt     *time.Time `db:"resolved_at"`
	// PeriodEnd is the end of the period the failed invoice bills (nil: not known); an invoice
	// for a period ending later settles the case too.
	PeriodEnd *time.Time `db:"period_end"`
}

// coveredBy says whether a paid invoice of the case's subscription settles it: the failed
// invoice itself, or one for a later period. An earlier period's invoice (a late or replayed
// invoice.paid) or a proration within the same period does not.
func (c DunningCase) coveredBy(inv *InvoiceEvent) bool {
	if inv.ID == c.InvoiceID {
		return true
	}
	if inv.PeriodEnd.IsZero() {
		return false
	}
	if c.PeriodEnd != nil {
		return inv.PeriodEnd.After(*c.PeriodEnd)
	}
	return !inv.PeriodStart.IsZero() && !inv.PeriodStart.Before(c.FailedAt) // a period that began after the failure
}

// DunningTx keeps dunning cases inside the payment event's or the job's transaction. A
// subscription with an open, downgraded case gives no plan (LiveSubscriptionsOf skips it).
type DunningTx interface {
	// OpenDunning inserts a case, or reopens the subscription's resolved one as c; when the
	// subscription has an open case already, that case is returned with opened false.
	OpenDunning(ctx context.Context, c DunningCase) (cur DunningCase, opened bool, err error)
	// DunningForUpdate locks the subscription's case; not_found when it has none.
	DunningForUpdate(ctx context.Context, subscriptionID string) (DunningCase, error)
	// SaveDunning writes the case's progress (reminded, downgraded, resolved).
	SaveDunning(ctx context.Context, c DunningCase) error
	// BillingContacts are the addresses billing mail goes to: the account's email when it has
	// one, else its owners'.
	BillingContacts(ctx context.Context, accountID string) ([]string, error)
}

type dunningJob struct {
	SubscriptionID string    `json:"subscription_id"`
	GraceEndsAt    time.Time `json:"grace_ends_at"`
}

func (s *Service) registerDunningJobs(w *Worker) {
	w.Handle(JobDunningReminder, s.handleDunningReminder)
	w.Handle(JobDunningEnd, s.handleDunningEnd)
}

// GracePeriod is how long a failed subscription payment keeps its plan.
func (s *Service) GracePeriod() time.Duration {
	if s.dunning.Grace <= 0 {
		return DefaultGrace
	}
	return s.dunning.Grace
}

// startDunning opens the grace period of a failed subscription invoice: it mails the customer
// and schedules the reminder and the end. A further failure (Stripe's retries, a replay) while
// the case is open changes nothing: the grace is counted from the first failure.
func (s *Service) startDunning(ctx context.Context, tx Tx, accountID string, inv *InvoiceEvent) error {
	if inv.SubscriptionID == "" {
		return nil
	}
	sub, err := tx.SubscriptionForUpdate(ctx, inv.SubscriptionID)
	if ErrorCode(err) == ENotFound || (err == nil && sub.Status == "canceled") {
		return nil
	}
	if err != nil {
		return err
	}
	now := s.Now()
	var periodEnd *time.Time
	if !inv.PeriodEnd.IsZero() {
		t := inv.PeriodEnd.UTC()
		periodEnd = &t
	}
	c, opened, err := tx.OpenDunning(ctx, DunningCase{SubscriptionID: sub.ID, AccountID: accountID, InvoiceID: inv.ID,
		PlanKey: sub.PlanKey, Amount: max(inv.AmountDue, 0), Currency: currencyOr(inv.Currency), FailedAt: now,
		GraceEndsAt: now.Add(s.GracePeriod()), PeriodEnd: periodEnd})
	if err != nil || !opened {
		return err
	}
	key := "dunning:" + c.SubscriptionID + ":" + strconv.FormatInt(c.GraceEndsAt.UnixMicro(), 10)
	payload := dunningJob{SubscriptionID: c.SubscriptionID, GraceEndsAt: c.GraceEndsAt}
	if remind := c.GraceEndsAt.Add(-graceReminder); remind.After(now) {
		if err := tx.Enqueue(ctx, NewJob(JobDunningReminder, payload, remind, key+":reminder")); err != nil {
			return err
		}
	}
	if err := tx.Enqueue(ctx, NewJob(JobDunningEnd, payload, c.GraceEndsAt, key+":end")); err != nil {
		return err
	}
	return s.dunningMail(ctx, tx, c, MailDunningFailed)
}

// openCase locks the case a job was scheduled for; ok is false when the job has nothing
// left to do (no case, resolved, or a later grace period than the job's).
func (s *Service) openCase(ctx context.Context, tx Tx, payload json.RawMessage) (DunningCase, bool, error) {
	var p dunningJob
	if err := json.Unmarshal(payload, &p); err != nil {
		return DunningCase{}, false, fmt.Errorf("dunning job payload: %w", err)
	}
	c, err := tx.DunningForUpdate(ctx, p.SubscriptionID)
	if ErrorCode(err) == ENotFound {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	return c, c.ResolvedAt == nil && c.GraceEndsAt.Equal(p.GraceEndsAt), nil
}

// subscriptionEnded resolves a case with nothing left to collect: the subscription was
// cancelled (the plan went with it), is no longer past due or unpaid (the invoice was voided,
// or paid by a path we did not see), or the case's invoice was paid. Only then may a reminder
// or a downgrade run.
func (s *Service) subscriptionEnded(ctx context.Context, tx Tx, c *DunningCase) (bool, error) {
	sub, err := tx.SubscriptionForUpdate(ctx, c.SubscriptionID)
	if err != nil {
		return false, err
	}
	owed := sub.Status == "past_due" || sub.Status == "unpaid"
	if owed {
		paid, err := s.invoicePaid(ctx, tx, c.AccountID, c.InvoiceID)
		if err != nil {
			return false, err
		}
		owed = !paid
	}
	if owed {
		return false, nil
	}
	t := s.Now()
	c.ResolvedAt = &t
	return true, tx.SaveDunning(ctx, *c)
}

// handleDunningReminder mails "three days left" once, while the case is open.
func (s *Service) handleDunningReminder(ctx context.Context, payload json.RawMessage) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		c, ok, err := s.openCase(ctx, tx, payload)
		if err != nil || !ok || c.RemindedAt != nil || c.DowngradedAt != nil {
			return err
		}
		if ended, err := s.subscriptionEnded(ctx, tx, &c); err != nil || ended {
			return err
		}
		t := s.Now()
		c.RemindedAt = &t
		if err := tx.SaveDunning(ctx, c); err != nil {
			return err
		}
		return s.dunningMail(ctx, tx, c, MailDunningReminder)
	})
}

// handleDunningEnd drops the account to the Free plan when the grace ends unpaid: in one
// transaction the plan, its audit entry, an in-app notification and the mail. Credits are not
// touched; the Free plan's entitlements apply to spending them.
func (s *Service) handleDunningEnd(ctx context.Context, payload json.RawMessage) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		c, ok, err := s.openCase(ctx, tx, payload)
		if err != nil || !ok || c.DowngradedAt != nil {
			return err
		}
		if ended, err := s.subscriptionEnded(ctx, tx, &c); err != nil || ended {
			return err
		}
		t := s.Now()
		if t.Before(c.GraceEndsAt) {
			return fmt.Errorf("dunning end of %s ran before the grace ends (%s)", c.SubscriptionID, c.GraceEndsAt)
		}
		c.DowngradedAt = &t
		if err := tx.SaveDunning(ctx, c); err != nil {
			return err
		}
		actor := ActorJob + ":" + JobDunningEnd
		if err := s.syncPlanBecause(ctx, tx, c.AccountID, actor, "grace period ended with invoice "+c.InvoiceID+" unpaid"); err != nil {
			return err
		}
		msg := fmt.Sprintf("Your %s plan payment is still unpaid, so the account is on the Free plan now. Your credits stay usable; "+
			"update your card under Manage billing and the plan comes back with the next paid invoice.", s.planName(ctx, c.PlanKey))
		if err := s.notify(ctx, tx, c.AccountID, "plan_downgraded", "error", "dunning_downgraded:"+c.SubscriptionID+":"+
			strconv.FormatInt(c.GraceEndsAt.UnixMicro(), 10), billingPath, msg); err != nil {
			return err
		}
		return s.dunningMail(ctx, tx, c, MailDunningDowngrade)
	})
}

// endDunning closes the subscription's open case when a paid invoice covers it (coveredBy);
// a plan dropped at the end of the grace comes back (the customer is told), and the pending
// jobs find the case resolved and do nothing.
func (s *Service) endDunning(ctx context.Context, tx Tx, inv *InvoiceEvent, actor string) error {
	if inv.SubscriptionID == "" {
		return nil
	}
	c, err := tx.DunningForUpdate(ctx, inv.SubscriptionID)
	if ErrorCode(err) == ENotFound {
		return nil
	}
	if err != nil || c.ResolvedAt != nil || !c.coveredBy(inv) {
		return err
	}
	t := s.Now()
	c.ResolvedAt = &t
	if err := tx.SaveDunning(ctx, c); err != nil {
		return err
	}
	if c.DowngradedAt == nil {
		return nil
	}
	if err := s.syncPlanBecause(ctx, tx, c.AccountID, actor, "invoice paid after the grace period: plan restored"); err != nil {
		return err
	}
	msg := fmt.Sprintf("Payment received: your %s plan is back.", s.planName(ctx, c.PlanKey))
	if err := s.notify(ctx, tx, c.AccountID, "plan_restored", "info", "dunning_restored:"+c.SubscriptionID+":"+
		strconv.FormatInt(c.GraceEndsAt.UnixMicro(), 10), billingPath, msg); err != nil {
		return err
	}
	return s.dunningMail(ctx, tx, c, MailDunningRestored)
}

func (s *Service) planName(ctx context.Context, key string) string {
	if p, err := s.Plan(ctx, key); err == nil {
		return p.Name
	}
	return key
}

// dunningMail queues one of the dunning messages to each billing contact (none: the in-app
// notification is all there is).
func (s *Service) dunningMail(ctx context.Context, tx Tx, c DunningCase, kind string) error {
	to, err := tx.BillingContacts(ctx, c.AccountID)
	if err != nil {
		return err
	}
	for _, addr := range to {
		m := dunningMessage(c, kind, s.planName(ctx, c.PlanKey), s.dunning.LinkBase)
		m.To, m.CreatedAt = addr, s.Now()
		if err := s.queueMail(ctx, tx, m); err != nil {
			return err
		}
	}
	return nil
}

// dunningMessage writes the subject and body of a dunning mail: what happened, the amount,
// the date the grace ends, and where to fix the card.
func dunningMessage(c DunningCase, kind, plan, base string) Mail {
	amount := "the payment"
	if c.Amount > 0 {
		amount = "the payment of " + FormatMoney(c.Amount, c.Currency)
	}
	ends := c.GraceEndsAt.UTC().Format("2 January 2006 at 15:04 UTC")
	mc := mailContent{Greeting: "Hello,",
		Actions: []mailLink{{"Fix your card in the Stripe billing portal", base + fixCardPath}, {"Your billing page", base + billingPath}}}
	figures := []mailFigure{{"Plan", plan}, {"Invoice", c.InvoiceID}}
	if c.Amount > 0 {
		figures = append(figures, mailFigure{"Amount due", FormatMoney(c.Amount, c.Currency)})
	}
	var subject string
	switch kind {
	case MailDunningFailed:
		subject = "Your " + plan + " plan payment failed"
		mc.Paras = []string{fmt.Sprintf("we could not take %s for your %s plan (invoice %s), so the subscription is past due.", amount, plan, c.InvoiceID),
			fmt.Sprintf("Nothing changes until %s: your plan and your credits stay as they are. If the invoice is still unpaid then, "+
				"the account moves to the Free plan; the credits you have stay usable.", ends)}
		mc.Figures = append(figures, mailFigure{"Grace period ends", ends})
	case MailDunningReminder:
		subject = "3 days left to fix your " + plan + " plan payment"
		mc.Paras = []string{fmt.Sprintf("%s for your %s plan (invoice %s) is still unpaid.", upperFirst(amount), plan, c.InvoiceID),
			fmt.Sprintf("On %s the account moves to the Free plan unless the invoice is paid; the credits you have stay usable.", ends)}
		mc.Figures = append(figures, mailFigure{"Grace period ends", ends})
	case MailDunningDowngrade:
		subject = "Your account is on the Free plan now"
		mc.Paras = []string{fmt.Sprintf("%s for your %s plan (invoice %s) was still unpaid when the grace period ended on %s, "+
			"so the account is on the Free plan now. The credits you have stay usable.", upperFirst(amount), plan, c.InvoiceID, ends),
			fmt.Sprintf("Update your card and the %s plan comes back as soon as the invoice is paid.", plan)}
		mc.Figures = append(figures, mailFigure{"Grace period ended", ends})
	case MailDunningRestored:
		subject = "Your " + plan + " plan is back"
		mc.Paras = []string{fmt.Sprintf("thank you: the invoice of your %s plan is paid, and the account is on the %s plan again.", plan, plan)}
		mc.Figures = []mailFigure{{"Plan", plan}}
		mc.Actions = mc.Actions[1:]
	default:
		panic("billing: unknown dunning mail " + kind)
	}
	return mc.mail(kind, "", subject)
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
