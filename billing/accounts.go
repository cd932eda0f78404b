package billing

import (
	"context"
	"strings"
	"time"
)

// Account statuses.
const (
	StatusActive    = "active"
	StatusPaused    = "paused"
	StatusSuspended = "suspended"
)

// Account is a wallet owner. Balance and Reserved are caches kept in step by the ledger.
type Account struct {
	ID             string    `db:"id"`
	Name           string    `db:"name"`
	ExternalID     *string   `db:"external_id"`
	Status         string    `db:"status"`
	StatusReason   string    `db:"status_reason"`
	PlanKey        string    `db:"plan_key"`
	OverdraftLimit Credits   `db:"overdraft_limit"`
	Balance        Credits   `db:"balance"`
	Reserved       Credits   `db:"reserved"`
	Debt           Credits   `db:"debt"`
	CreatedAt      time.Time `db:"created_at"`
	// Email is where billing mail goes (the operator may set it through the API).
	Email string `db:"email"`
	// Spend controls: a monthly limit (nil: none), hard refuses and soft warns.
	SpendLimit     *Credits   `db:"spend_limit"`
	SpendLimitMode string     `db:"spend_limit_mode"`
	PeriodStart    *time.Time `db:"period_start"`
	PeriodSpent    Credits    `db:"period_spent"`
	// BillingPeriodStart and End are the current period of the account's live subscription
	// (both nil without one): the spend period follows it (SpendPeriod).
	BillingPeriodStart *time.Time `db:"billing_period_start"`
	BillingPeriodEnd   *time.Time `db:"billing_period_end"`
	// LowBalanceThreshold (nil: 10% of LastTopup) triggers the low_balance warning.
	LowBalanceThreshold *Credits `db:"low_balance_threshold"`
	LastTopup           Credits  `db:"last_topup"`
	// Version counts the row's updates (a trigger bumps it): see LedgerState.Version.
	Version int64 `db:"version"`
	// MemberLimits: some member has a monthly limit, so debits attributed to a member are
	// decided under the account's lock. IsTeam marks a team account (CreateTeam). (Two bools
	// in the padding after Version: the ledger cache keeps an Account per cached account.)
	MemberLimits bool `db:"member_limits"`
	IsTeam       bool `db:"is_team"`
}

// Spend limit modes.
const (
	SpendHard = "hard"
	SpendSoft = "soft"
)

// monthStart is the first instant of t's calendar month (UTC): the spend period of an account
// without a subscription.
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// SpendPeriod is the one rule for the spend period containing now, [start, end): the billing
// period of the account's subscription, else the calendar month (UTC). A subscription period
// that has passed without a renewal event yet repeats at its length in months from its start
// (the 17th stays the 17th, clamped to short months), as Stripe's billing anchor does.
func SpendPeriod(a Account, now time.Time) (start, end time.Time) {
	if a.BillingPeriodStart == nil || a.BillingPeriodEnd == nil || !a.BillingPeriodEnd.After(*a.BillingPeriodStart) {
		start = monthStart(now)
		return start, start.AddDate(0, 1, 0)
	}
	s, e := a.BillingPeriodStart.UTC(), a.BillingPeriodEnd.UTC()
	if !now.Before(s) && now.Before(e) {
		return s, e
	}
	months := monthsBetween(s, e)
	// k periods from the anchor: start with the calendar estimate, then step to the right one.
	k := monthsBetween(s, now.UTC()) / months
	for addMonthsClamped(s, k*months).After(now) {
		k--
	}
	for !addMonthsClamped(s, (k+1)*months).After(now) {
		k++
	}
	return addMonthsClamped(s, k*months), addMonthsClamped(s, (k+1)*months)
}

// monthsBetween is how many whole calendar months lie from a to b (at least 1), rounding
// a period of 28 to 31 days to one month and a year to twelve.
func monthsBetween(a, b time.Time) int {
	n := (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
	if b.Day() < a.Day()-3 { // short months end a period a few days "early" (31 Jan -> 28 Feb)
		n--
	}
	return max(n, 1)
}

// addMonthsClamped moves t by n months keeping its day, or the month's last day when shorter.
func addMonthsClamped(t time.Time, n int) time.Time {
	y, m := t.Year(), int(t.Month())-1+n
	y += m / 12
	if m %= 12; m < 0 {
		m += 12
		y--
	}
	last := time.Date(y, time.Month(m+2), 0, 0, 0, 0, 0, time.UTC).Day()
	return time.Date(y, time.Month(m+1), min(t.Day(), last), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// SpentThisPeriod is what the account spent in the period containing now.
func (a Account) SpentThisPeriod(now time.Time) Credits {
	start, _ := SpendPeriod(a, now)
	if a.PeriodStart == nil || !a.PeriodStart.Equal(start) {
		return 0
	}
	return a.PeriodSpent
}

// PeriodResetsAt is when the spend period containing now ends.
func (a Account) PeriodResetsAt(now time.Time) time.Time {
	_, end := SpendPeriod(a, now)
	return end
}

// syncSpendPeriod makes the account's billing period that of its newest live subscription
// (none: calendar months again). The update bumps the account's version, so no instance keeps
// deciding spend against the old period.
func (s *Service) syncSpendPeriod(ctx context.Context, tx Tx, a Account, live []Subscription) error {
	var start, end *time.Time
	if len(live) > 0 && live[0].CurrentPeriodStart != nil && live[0].CurrentPeriodEnd != nil &&
		live[0].CurrentPeriodEnd.After(*live[0].CurrentPeriodStart) {
		start, end = live[0].CurrentPeriodStart, live[0].CurrentPeriodEnd
	}
	if sameInstant(a.BillingPeriodStart, start) && sameInstant(a.BillingPeriodEnd, end) {
		return nil
	}
	s.forgetAccount(a.ID)
	return tx.SetBillingPeriod(ctx, a.ID, start, end)
}

func sameInstant(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}

// lowBalanceThreshold is the configured threshold or 10% of the last top-up.
func (a Account) lowBalanceThreshold() Credits {
	if a.LowBalanceThreshold != nil {
		return *a.LowBalanceThreshold
	}
	return a.LastTopup / 10
}

// Available is balance minus active holds.
func (a Account) Available() Credits { return a.Balance - a.Reserved }

// CreateAccountInput creates a wallet for the operator's customer (API) or a team.
type CreateAccountInput struct {
	Name       string
	ExternalID string
	Email      string
	// Trial grants the one-time trial credits.
	Trial bool
	Actor string
}

// CreateAccount creates an active account on the Free plan.
// Errors: invalid_request; conflict with Details["id"] the existing account when external_id is taken.
func (s *Service) CreateAccount(ctx context.Context, in CreateAccountInput) (Account, error) {
	in.Name = strings.TrimSpace(in.Name)
	var v Validation
	if in.Name == "" {
		v.Add("name", "Required.")
	} else if len(in.Name) > 200 {
		v.Add("name", "Use at most 200 characters.")
	} else if p := singleLineProblem(in.Name); p != "" {
		v.Add("name", "%s", p)
	}
	// The operator's id is opaque, like an idempotency key: kept byte for byte (a trim made
	// " cust_42" and "cust_42" one account), so spaces around it are refused, not removed.
	switch {
	case len(in.ExternalID) > 200:
		v.Add("external_id", "Use at most 200 characters.")
	case in.ExternalID == "":
	case keyProblem(in.ExternalID) != "":
		v.Add("external_id", "%s", keyProblem(in.ExternalID))
	case strings.TrimSpace(in.ExternalID) != in.ExternalID:
		v.Add("external_id", "Must not start or end with spaces.")
	}
	in.Email = NormalizeEmail(in.Email)
	if in.Email != "" {
		validateEmail(&v, in.Email)
	}
	if err := v.Err(); err != nil {
		return Account{}, err
	}
	a := Account{ID: NewID("acc"), Name: in.Name, ExternalID: optional(in.ExternalID), Email: in.Email, Status: StatusActive, PlanKey: "free", CreatedAt: s.Now()}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateAccount(ctx, a); err != nil {
			return err
		}
		if err := tx.InsertAlertRules(ctx, defaultAlertRules(a.ID, a.CreatedAt)); err != nil {
			return err
		}
		if in.Trial {
			return s.grantTrial(ctx, tx, a.ID)
		}
		return nil
	})
	if ErrorCode(err) == EConflict && in.ExternalID != "" {
		if prev, err2 := s.store.AccountByExternalID(ctx, in.ExternalID); err2 == nil {
			return Account{}, &Error{Code: EConflict, Message: "An account with this external_id already exists.", Details: map[string]any{"id": prev.ID}}
		}
	}
	if err != nil {
		return Account{}, err
	}
	return s.store.AccountByID(ctx, a.ID)
}

// BalanceSummary is what an account holds now; expired and not-yet-effective credits never show.
type BalanceSummary struct {
	Account        Account
	Balance        Credits
	Reserved       Credits
	Available      Credits
	OverdraftLimit Credits
	Grants         []Grant
}

// Balance reads an account's balance as of now. Errors: not_found.
func (s *Service) Balance(ctx context.Context, accountID string) (BalanceSummary, error) {
	now := s.Now()
	a, unusable, err := s.store.BalanceOf(ctx, accountID, now)
	if err != nil {
		return BalanceSummary{}, err
	}
	gs, err := s.store.UsableGrants(ctx, accountID, now)
	if err != nil {
		return BalanceSummary{}, err
	}
	bal := a.Balance - unusable
	return BalanceSummary{Account: a, Balance: bal, Reserved: a.Reserved, Available: bal - a.Reserved, OverdraftLimit: a.OverdraftLimit, Grants: gs}, nil
}

// SetOverdraftLimit lets an account go negative up to limit. Errors: invalid_request, not_found.
func (s *Service) SetOverdraftLimit(ctx context.Context, accountID string, limit Credits) error {
	if err := CheckCreditInput("overdraft_limit", limit, false); err != nil {
		return err
	}
	defer s.forgetAccount(accountID)
	return s.store.InTx(ctx, func(tx Tx) error { return tx.SetOverdraftLimit(ctx, accountID, limit) })
}

// Ledger returns an account's entries, newest first, older than beforeID (0: from the newest).
func (s *Service) Ledger(ctx context.Context, accountID string, beforeID int64, limit int) ([]Entry, error) {
	return s.store.LedgerPage(ctx, accountID, beforeID, limit)
}

// SetAccountStatus pauses, suspends or reactivates an account; a suspension needs a reason.
// Errors: invalid_request, not_found.
func (s *Service) SetAccountStatus(ctx context.Context, accountID, status, reason string) error {
	switch status {
	case StatusActive, StatusPaused:
	case StatusSuspended:
		if strings.TrimSpace(reason) == "" {
			return FieldError("reason", "Say why the account is suspended; the customer sees it.")
		}
	default:
		return FieldError("status", "Must be active, paused or suspended.")
	}
	defer s.forgetAccount(accountID)
	return s.store.InTx(ctx, func(tx Tx) error { return tx.SetAccountStatus(ctx, accountID, status, strings.TrimSpace(reason)) })
}

// SetSpendLimit sets the monthly spend limit (nil removes it) and its mode.
// Errors: invalid_request, not_found.
func (s *Service) SetSpendLimit(ctx context.Context, accountID string, limit *Credits, mode string, lowBalance *Credits) error {
	var v Validation
	if limit != nil {
		checkCredits(&v, "spend_limit", *limit, 0)
	}
	if mode != SpendHard && mode != SpendSoft {
		v.Add("spend_limit_mode", "Must be hard (refuse) or soft (warn).")
	}
	if lowBalance != nil {
		checkCredits(&v, "low_balance_threshold", *lowBalance, 0)
	}
	if err := v.Err(); err != nil {
		return err
	}
	defer s.forgetAccount(accountID)
	return s.store.InTx(ctx, func(tx Tx) error { return tx.SetSpendLimit(ctx, accountID, limit, mode, lowBalance) })
}

// SetPlan moves an account to a plan. Errors: not_found.
func (s *Service) SetPlan(ctx context.Context, accountID, planKey string) error {
	if _, err := s.Plan(ctx, planKey); err != nil {
		return err
	}
	defer s.forgetAccount(accountID)
	return s.store.InTx(ctx, func(tx Tx) error { return tx.SetAccountPlan(ctx, accountID, planKey) })
}
