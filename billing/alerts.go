package billing

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Alert rule kinds (SPEC section 4). Threshold's unit is the kind's: thousandths of a credit
// (balance_below, i.e. a Credits value), percent (balance_below_percent of the last top-up,
// spend_percent of the spend limit), days (credits_expiring); the failure kinds have none.
const (
	AlertBalanceBelow        = "balance_below"
	AlertBalanceBelowPercent = "balance_below_percent"
	AlertSpendPercent        = "spend_percent"
	AlertCreditsExpiring     = "credits_expiring"
	AlertRechargeFailed      = "recharge_failed"
	AlertPaymentFailed       = "payment_failed"
)

// AlertKinds lists every kind, in the order pages show them.
var AlertKinds = []string{AlertBalanceBelow, AlertBalanceBelowPercent, AlertSpendPercent, AlertCreditsExpiring,
	AlertRechargeFailed, AlertPaymentFailed}

// Alert channels.
const (
	ChannelInApp   = "in_app"
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
)

// AlertChannels lists every channel.
var AlertChannels = []string{ChannelInApp, ChannelEmail, ChannelWebhook}

// Alert event types, as customer webhooks name them.
const (
	AlertFired    = "alert.fired"
	AlertResolved = "alert.resolved"
)

// AlertRule is one of an account's thresholds. Firing and Crossings are its state: a crossing
// sets Firing (and counts one more crossing) only where it was clear, so it fires once.
type AlertRule struct {
	ID         string     `db:"id"`
	AccountID  string     `db:"account_id"`
	Kind       string     `db:"kind"`
	Threshold  int64      `db:"threshold"`
	Channels   []string   `db:"-"`
	Enabled    bool       `db:"enabled"`
	Firing     bool       `db:"firing"`
	Crossings  int64      `db:"crossings"`
	FiredAt    *time.Time `db:"fired_at"`
	ResolvedAt *time.Time `db:"resolved_at"`
	CreatedAt  time.Time  `db:"created_at"`
	UpdatedAt  time.Time  `db:"updated_at"`
	// MemberID is the member of a member_spend_percent rule (nil for the other kinds; a
	// pointer, as the ledger cache keeps every account's rules).
	MemberID *string `db:"member_id"`
}

// Member is the member of a member_spend_percent rule, "" for the other kinds.
func (r AlertRule) Member() string {
	if r.MemberID == nil {
		return ""
	}
	return *r.MemberID
}

// AlertMemberSpendPercent fires when a team member's spend reaches a percent of their monthly
// limit (MemberID names them). It is decided where members' counters change: under the
// account's lock, with the debit.
const AlertMemberSpendPercent = "member_spend_percent"

// HasChannel says whether the rule speaks on ch.
func (r AlertRule) HasChannel(ch string) bool {
	for _, c := range r.Channels {
		if c == ch {
			return true
		}
	}
	return false
}

// CachedAlertKinds are the kinds onDebitPath accepts: the ledger cache keeps rules of these
// only, and Store.LedgerAccounts reads no others.
var CachedAlertKinds = []string{AlertBalanceBelow, AlertBalanceBelowPercent, AlertSpendPercent}

// onDebitPath says whether the kind is a comparison of the account's figures, evaluated where
// those figures change (every ledger write); the others fire from events and jobs.
func (r *AlertRule) onDebitPath() bool { return slices.Contains(CachedAlertKinds, r.Kind) }

// AlertTx writes alert rules and their state inside a transaction.
type AlertTx interface {
	// AlertRulesFor lists the enabled rules of the accounts (the ledger reads them under the
	// accounts' locks, so they are the rules the decision is made against).
	AlertRulesFor(ctx context.Context, accountIDs []string) ([]AlertRule, error)
	InsertAlertRules(ctx context.Context, rules []AlertRule) error
	// SetAlertFiring sets or clears a rule's firing flag; changed is false when it already
	// had that value (nothing written). A set counts one more crossing.
	SetAlertFiring(ctx context.Context, ruleID string, firing bool, at time.Time) (crossings int64, changed bool, err error)
	// InsertAlertNotification is InsertNotification naming the rule it came from.
	InsertAlertNotification(ctx context.Context, n Notification, ruleID string) error
	// AlertRuleForUpdate locks one of the account's rules; not_found when it has none by that id.
	AlertRuleForUpdate(ctx context.Context, accountID, ruleID string) (AlertRule, error)
	// UpdateAlertRule writes threshold, channels, enabled and the firing flag.
	UpdateAlertRule(ctx context.Context, r AlertRule) error
	DeleteAlertRule(ctx context.Context, ruleID string) error
	// TouchAccount bumps the account's version, so every instance's ledger cache sees its
	// cached state (and alert rules) as stale; not_found for an unknown account.
	TouchAccount(ctx context.Context, accountID string) error
	// ClaimAlertDelivery records that a delivery (by key) was made; false when it was before.
	ClaimAlertDelivery(ctx context.Context, key string, at time.Time) (bool, error)
	// ClaimGrantNotice records that the rule spoke about the grant; false when it did before.
	ClaimGrantNotice(ctx context.Context, ruleID, grantID string, at time.Time) (bool, error)
}

// AlertStore reads alert rules outside a transaction.
type AlertStore interface {
	// CachedAlertRulesOf lists the enabled rules of the accounts, as LedgerAccounts reads them.
	CachedAlertRulesOf(ctx context.Context, accountIDs []string) ([]AlertRule, error)
	// ListAlertRules lists every rule of an account, oldest first.
	ListAlertRules(ctx context.Context, accountID string) ([]AlertRule, error)
	// AlertRuleByID returns not_found when the account has no rule by that id.
	AlertRuleByID(ctx context.Context, accountID, ruleID string) (AlertRule, error)
	// ExpiringGrantAlerts lists enabled credits_expiring rules with a grant of theirs that
	// has credits left and expires within the rule's days of now, not yet announced.
	ExpiringGrantAlerts(ctx context.Context, now time.Time, limit int) ([]ExpiringGrantAlert, error)
}

// ExpiringGrantAlert is a credits_expiring rule and a grant it has to announce.
type ExpiringGrantAlert struct {
	Rule      AlertRule
	GrantID   string
	Remaining Credits
	ExpiresAt time.Time
}

// defaultAlertRules are every new account's rules: balance below 20% of the last top-up,
// spend at 80% and 100% of the limit (quiet while there is none), credits expiring within 7
// days, failed payments and auto-recharges; in-app and email. Migration 0017 gives existing
// accounts the same.
func defaultAlertRules(accountID string, now time.Time) []AlertRule {
	defs := []struct {
		kind string
		th   int64
	}{{AlertBalanceBelowPercent, 20}, {AlertSpendPercent, 80}, {AlertSpendPercent, 100},
		{AlertCreditsExpiring, 7}, {AlertPaymentFailed, 0}, {AlertRechargeFailed, 0}}
	out := make([]AlertRule, len(defs))
	for i, d := range defs {
		out[i] = AlertRule{ID: NewID("alr"), AccountID: accountID, Kind: d.kind, Threshold: d.th,
			Channels: []string{ChannelInApp, ChannelEmail}, Enabled: true, CreatedAt: now, UpdatedAt: now}
	}
	return out
}

// alertBreached says whether a debit-path rule's condition holds for the account's figures:
// a comparison of numbers the ledger already has, no reads (spent is the spend this period,
// worked out once per account by the caller). A rule whose reference is
// missing (no top-up yet, no spend limit) never holds.
func alertBreached(r *AlertRule, a *Account, available, spent Credits) bool {
	switch r.Kind {
	case AlertBalanceBelow:
		return available < Credits(r.Threshold)
	case AlertBalanceBelowPercent:
		// available < last_topup * pct / 100, without dividing (|values| <= 10^15 and pct <= 100).
		return a.LastTopup > 0 && int64(available)*100 < int64(a.LastTopup)*r.Threshold
	case AlertSpendPercent:
		return a.SpendLimit != nil && *a.SpendLimit > 0 &&
			int64(spent)*100 >= int64(*a.SpendLimit)*r.Threshold
	}
	return false
}

// alertTransition is a rule whose condition no longer matches its firing flag.
type alertTransition struct {
	rule *AlertRule
	fire bool // false: resolve
}

// evalAlerts appends the account's rules whose state must change: a rule not firing whose
// condition holds fires, a firing one whose condition cleared resolves. Most calls append
// nothing and allocate nothing.
func evalAlerts(rules []AlertRule, a *Account, available, spent Credits, out []alertTransition) []alertTransition {
	for i := range rules {
		r := &rules[i]
		if !r.Enabled || !r.onDebitPath() {
			continue
		}
		if b := alertBreached(r, a, available, spent); b != r.Firing {
			out = append(out, alertTransition{rule: r, fire: b})
		}
	}
	return out
}

// alertDue says whether any of the account's rules must change state: evalAlerts without
// the list, what the lock-free path asks of every batch.
func alertDue(rules []AlertRule, a *Account, available, spent Credits) bool {
	for i := range rules {
		r := &rules[i]
		if r.Enabled && r.onDebitPath() && alertBreached(r, a, available, spent) != r.Firing {
			return true
		}
	}
	return false
}

// setRules hands each account of the book its rules, which come grouped by account (the
// store orders them so, the cache keeps them so): each account gets its run, not a copy.
func (b *book) setRules(rules []AlertRule) {
	for i := 0; i < len(rules); {
		j := i + 1
		for j < len(rules) && rules[j].AccountID == rules[i].AccountID {
			j++
		}
		if st := b.accounts[rules[i].AccountID]; st != nil {
			st.rules = rules[i:j:j]
		}
		i = j
	}
}

// alertsPending says whether any changed account crosses a rule (the lock-free path then
// hands the batch to the locked one, which writes the alert with the debit).
func (b *book) alertsPending() bool {
	for _, st := range b.accounts {
		if st.dirty && len(st.rules) > 0 && alertDue(st.rules, &st.acc, b.available(st), st.acc.SpentThisPeriod(b.now)) {
			return true
		}
	}
	return false
}

// writeAlerts fires and resolves the rules the book's changes crossed, in its transaction:
// the state row, then the channels (deliverAlert). Firing is set only where it was clear, so a
// crossing two transactions both saw fires once.
func (b *book) writeAlerts(ctx context.Context, tx Tx) error {
	for _, st := range b.accounts {
		if !st.dirty || len(st.rules) == 0 {
			continue
		}
		avail, spent := b.available(st), st.acc.SpentThisPeriod(b.now)
		for _, t := range evalAlerts(st.rules, &st.acc, avail, spent, nil) {
			crossings, changed, err := tx.SetAlertFiring(ctx, t.rule.ID, t.fire, b.now)
			if err != nil {
				return err
			}
			t.rule.Firing = t.fire
			if !changed {
				continue
			}
			if t.rule.onDebitPath() {
				st.flips++
			}
			t.rule.Crossings = crossings
			ev := AlertEvent{Type: AlertResolved, Rule: *t.rule, Crossing: crossings, At: b.now,
				Available: avail, Spent: spent, SpendLimit: st.acc.SpendLimit, LastTopup: st.acc.LastTopup}
			if t.fire {
				ev.Type = AlertFired
			}
			if err := deliverAlert(ctx, tx, ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// AlertEvent is a rule that fired or resolved, with the figures that made it.
type AlertEvent struct {
	Type       string // AlertFired or AlertResolved
	Rule       AlertRule
	Crossing   int64 // the rule's crossing count: with Type, unique per event
	At         time.Time
	Available  Credits
	Spent      Credits
	SpendLimit *Credits
	LastTopup  Credits
	GrantID    string // credits_expiring: the grant, and its credits and expiry
	Expiring   Credits
	ExpiresAt  *time.Time
	Detail     string // failures: what failed
	// InAppSent: the caller already wrote its own, more specific in-app notice (failures),
	// so the in-app channel adds none.
	InAppSent bool
}

// Key identifies the event: the same key is the same event, whatever delivers it.
func (e AlertEvent) Key() string {
	if e.GrantID != "" {
		return "alert:" + e.Rule.ID + ":" + e.GrantID
	}
	return "alert:" + e.Rule.ID + ":" + strconv.FormatInt(e.Crossing, 10) + ":" + e.Type
}

// JobAlertEmail sends one alert's mail.
const JobAlertEmail = "alert.email"

type alertEmailJob struct {
	Key     string `json:"key"`
	RuleID  string `json:"rule_id"`
	Account string `json:"account"`
	Type    string `json:"type"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	Action  string `json:"action"` // path of the page to act on
	// Figures are the event's numbers, labelled, for the mail's table (absent in jobs queued
	// before mail had them).
	Figures []mailFigure `json:"figures,omitempty"`
	// FixCard: a failed payment, so the mail links to the Stripe portal to fix the card.
	FixCard bool `json:"fix_card,omitempty"`
}

// deliverAlert hands one fired or resolved alert to each of its rule's channels, in the
// transaction that decided it: the in-app notification is written, the email is a durable
// job, so neither is lost nor doubled by a crash. It is the one place alert events leave.
func deliverAlert(ctx context.Context, tx Tx, ev AlertEvent) error {
	subject, text, action := describeAlert(ev)
	for _, ch := range ev.Rule.Channels {
		switch ch {
		case ChannelInApp:
			if ev.InAppSent {
				continue
			}
			level := "warning"
			if ev.Type == AlertResolved {
				level = "info"
			}
			n := Notification{AccountID: ev.Rule.AccountID, Kind: ev.Type, Level: level, Message: text,
				Link: action, Key: ev.Key(), CreatedAt: ev.At}
			if err := tx.InsertAlertNotification(ctx, n, ev.Rule.ID); err != nil {
				return err
			}
		case ChannelEmail:
			j := NewJob(JobAlertEmail, alertEmailJob{Key: ev.Key(), RuleID: ev.Rule.ID, Account: ev.Rule.AccountID,
				Type: ev.Type, Subject: subject, Text: text, Action: action, Figures: alertFigures(ev),
				FixCard: ev.Rule.Kind == AlertRechargeFailed || ev.Rule.Kind == AlertPaymentFailed}, ev.At, ev.Key()+":email")
			if err := tx.Enqueue(ctx, j); err != nil {
				return err
			}
		case ChannelWebhook:
			for _, e := range alertEvents(ev) {
				if err := emitEvent(ctx, tx, ev.At, e); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// describeAlert words an event for people: a subject, one sentence with the figures, and the
// page to act on.
func describeAlert(ev AlertEvent) (subject, text, action string) {
	r := ev.Rule
	fired := ev.Type == AlertFired
	switch r.Kind {
	case AlertBalanceBelow:
		action = "/billing"
		if fired {
			return "Balance below " + Credits(r.Threshold).String() + " credits",
				fmt.Sprintf("Your available balance is %s credits, below your alert at %s. Top up to keep usage running.", ev.Available, Credits(r.Threshold)), action
		}
		return "Balance back above " + Credits(r.Threshold).String() + " credits",
			fmt.Sprintf("Your available balance is back to %s credits, above your alert at %s.", ev.Available, Credits(r.Threshold)), action
	case AlertBalanceBelowPercent:
		action = "/billing"
		if fired {
			return fmt.Sprintf("Balance below %d%% of your last top-up", r.Threshold),
				fmt.Sprintf("Your available balance is %s credits, below %d%% of your last top-up (%s). Top up to keep usage running.", ev.Available, r.Threshold, ev.LastTopup), action
		}
		return fmt.Sprintf("Balance back above %d%% of your last top-up", r.Threshold),
			fmt.Sprintf("Your available balance is back to %s credits, above %d%% of your last top-up (%s).", ev.Available, r.Threshold, ev.LastTopup), action
	case AlertSpendPercent:
		action = "/limits"
		limit := "none"
		if ev.SpendLimit != nil {
			limit = ev.SpendLimit.String()
		}
		if fired {
			return fmt.Sprintf("Spend reached %d%% of your monthly limit", r.Threshold),
				fmt.Sprintf("You have spent %s credits this period, %d%% or more of your limit of %s. Raise the limit if you need more.", ev.Spent, r.Threshold, limit), action
		}
		return fmt.Sprintf("Spend back under %d%% of your monthly limit", r.Threshold),
			fmt.Sprintf("Spend this period is %s credits, under %d%% of your limit of %s.", ev.Spent, r.Threshold, limit), action
	case AlertMemberSpendPercent:
		limit := "none"
		if ev.SpendLimit != nil {
			limit = ev.SpendLimit.String()
		}
		if fired {
			return fmt.Sprintf("A member's spend reached %d%% of their monthly limit", r.Threshold),
				fmt.Sprintf("Member %s has spent %s credits this period, %d%% or more of their limit of %s.", r.Member(), ev.Spent, r.Threshold, limit), "/team"
		}
		return fmt.Sprintf("A member's spend is back under %d%% of their monthly limit", r.Threshold),
			fmt.Sprintf("Member %s has spent %s credits this period, under %d%% of their limit of %s.", r.Member(), ev.Spent, r.Threshold, limit), "/team"
	case AlertCreditsExpiring:
		when := ""
		if ev.ExpiresAt != nil {
			when = ev.ExpiresAt.UTC().Format("2 Jan 2006 15:04 UTC")
		}
		return fmt.Sprintf("%s credits expire within %d days", ev.Expiring, r.Threshold),
			fmt.Sprintf("%s credits of yours expire on %s. Use them before then.", ev.Expiring, when), "/billing"
	case AlertRechargeFailed:
		return "Auto-recharge failed", "An auto-recharge failed: " + ev.Detail + " Check your payment method.", "/billing"
	case AlertPaymentFailed:
		return "Payment failed", "A payment failed: " + ev.Detail + " Update your payment method to keep your plan.", "/billing"
	}
	return "Alert", "An alert on your account changed state.", "/limits"
}

// alertFigures are the numbers behind an event, as its mail lists them.
func alertFigures(ev AlertEvent) []mailFigure {
	credits := func(c Credits) string { return c.String() + " credits" }
	r := ev.Rule
	switch r.Kind {
	case AlertBalanceBelow:
		return []mailFigure{{"Available balance", credits(ev.Available)}, {"Alert threshold", credits(Credits(r.Threshold))}}
	case AlertBalanceBelowPercent:
		return []mailFigure{{"Available balance", credits(ev.Available)}, {"Last top-up", credits(ev.LastTopup)},
			{"Alert threshold", fmt.Sprintf("%d%% of the last top-up", r.Threshold)}}
	case AlertSpendPercent:
		limit := "none"
		if ev.SpendLimit != nil {
			limit = credits(*ev.SpendLimit)
		}
		return []mailFigure{{"Spent this period", credits(ev.Spent)}, {"Spend limit", limit},
			{"Alert threshold", fmt.Sprintf("%d%% of the limit", r.Threshold)}}
	case AlertMemberSpendPercent:
		limit := "none"
		if ev.SpendLimit != nil {
			limit = credits(*ev.SpendLimit)
		}
		return []mailFigure{{"Member", r.Member()}, {"Spent this period", credits(ev.Spent)}, {"Monthly limit", limit},
			{"Alert threshold", fmt.Sprintf("%d%% of the limit", r.Threshold)}}
	case AlertCreditsExpiring:
		f := []mailFigure{{"Expiring credits", credits(ev.Expiring)}}
		if ev.ExpiresAt != nil {
			f = append(f, mailFigure{"Expires", ev.ExpiresAt.UTC().Format("2 Jan 2006 15:04 UTC")})
		}
		return f
	}
	return nil
}

// fireEventAlerts fires the account's enabled rules of kind (recharge_failed, payment_failed)
// for one occurrence, named by ref: a retry of the same occurrence fires nothing new. inApp is
// the caller's own wording of the in-app notice: it is written (once, by its key) only when a
// rule of the kind speaks in-app, so switching that channel off silences it. nil: the caller
// wrote its notice itself (one the customer must see whatever the rules say).
func fireEventAlerts(ctx context.Context, tx Tx, accountID, kind, ref, detail string, at time.Time, inApp *Notification) error {
	rules, err := tx.AlertRulesFor(ctx, []string{accountID})
	if err != nil {
		return err
	}
	for _, r := range rules {
		if r.Kind != kind {
			continue
		}
		ok, err := tx.ClaimAlertDelivery(ctx, "event:"+r.ID+":"+ref, at)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		crossings, _, err := tx.SetAlertFiring(ctx, r.ID, true, at)
		if err != nil {
			return err
		}
		// A failure is an event, not a level: the rule is left clear for the next one.
		if _, _, err := tx.SetAlertFiring(ctx, r.ID, false, at); err != nil {
			return err
		}
		if inApp != nil && r.HasChannel(ChannelInApp) {
			n := *inApp
			n.AccountID, n.CreatedAt = accountID, at
			if err := tx.InsertAlertNotification(ctx, n, r.ID); err != nil {
				return err
			}
		}
		ev := AlertEvent{Type: AlertFired, Rule: r, Crossing: crossings, At: at, Detail: detail, InAppSent: true}
		if err := deliverAlert(ctx, tx, ev); err != nil {
			return err
		}
	}
	return nil
}
