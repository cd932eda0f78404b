package billing

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AutoRechargeSettings are an account's auto-recharge switch, threshold, pack and monthly cap,
// with the decline state the guardrails keep.
type AutoRechargeSettings struct {
	AccountID           string     `db:"account_id"`
	Enabled             bool       `db:"enabled"`
	Threshold           Credits    `db:"threshold"`
	PackKey             string     `db:"pack_key"`
	MonthlyCapCount     int        `db:"monthly_cap_count"`
	MonthlyCapAmount    int64      `db:"monthly_cap_amount"`
	Currency            string     `db:"currency"`
	ConsecutiveDeclines int        `db:"consecutive_declines"`
	BackoffUntil        *time.Time `db:"backoff_until"`
	DisabledReason      string     `db:"disabled_reason"`
	UpdatedAt           time.Time  `db:"updated_at"`
}

// Recharge statuses; pending, processing and requires_action are in flight.
const (
	RechargePending        = "pending"
	RechargeProcessing     = "processing"
	RechargeRequiresAction = "requires_action"
	RechargeSucceeded      = "succeeded"
	RechargeFailed         = "failed"
)

// Recharge is one off-session charge for packs.
type Recharge struct {
	ID            string    `db:"id"`
	AccountID     string    `db:"account_id"`
	PackKey       string    `db:"pack_key"`
	Packs         int       `db:"packs"`
	Credits       Credits   `db:"credits"`
	Amount        int64     `db:"amount"`
	Currency      string    `db:"currency"`
	Status        string    `db:"status"`
	PaymentIntent *string   `db:"payment_intent"`
	Failure       string    `db:"failure"`
	ActionURL     string    `db:"action_url"`
	CreatedAt     time.Time `db:"created_at"`
	UpdatedAt     time.Time `db:"updated_at"`
}

// InFlight says the recharge may still take money.
func (r Recharge) InFlight() bool {
	return r.Status == RechargePending || r.Status == RechargeProcessing || r.Status == RechargeRequiresAction
}

// AutoRechargeStore reads auto-recharge state outside a transaction.
type AutoRechargeStore interface {
	// AutoRechargeSettingsOf returns not_found when the account never saved settings.
	AutoRechargeSettingsOf(ctx context.Context, accountID string) (AutoRechargeSettings, error)
	ListRecharges(ctx context.Context, accountID string, limit int) ([]Recharge, error)
	RechargeByID(ctx context.Context, id string) (Recharge, error)
}

// AutoRechargeTx writes auto-recharge state inside a transaction.
type AutoRechargeTx interface {
	// AutoRechargeSettingsForUpdate locks the settings row; not_found when none.
	AutoRechargeSettingsForUpdate(ctx context.Context, accountID string) (AutoRechargeSettings, error)
	SaveAutoRechargeSettings(ctx context.Context, s AutoRechargeSettings) error
	// RechargeCandidates returns, of these accounts, the settings of those with auto-recharge
	// on, out of back-off at now and with no recharge in flight.
	RechargeCandidates(ctx context.Context, accountIDs []string, now time.Time) ([]AutoRechargeSettings, error)
	// AutoRechargeAccounts lists the accounts whose auto-recharge is enabled.
	AutoRechargeAccounts(ctx context.Context) ([]string, error)
	// InFlightRecharge returns the account's recharge in flight; not_found when none.
	InFlightRecharge(ctx context.Context, accountID string) (Recharge, error)
	// InsertRecharge returns conflict when the account already has one in flight.
	InsertRecharge(ctx context.Context, r Recharge) error
	SetRecharge(ctx context.Context, r Recharge) error
	// RechargeForUpdate locks a recharge; not_found when unknown.
	RechargeForUpdate(ctx context.Context, id string) (Recharge, error)
	// RechargesSince counts and sums the recharges created since t that took or may take money.
	RechargesSince(ctx context.Context, accountID string, t time.Time) (int, int64, error)
}

// Guardrails of SPEC section 2.
const (
	RechargeBackoff     = time.Hour
	RechargeMaxDeclines = 3
	JobAutoRecharge     = "auto_recharge"
)

// AutoRechargeForm is what the billing page's settings form sends, as typed.
type AutoRechargeForm struct {
	Enabled   bool
	Threshold string // credits
	PackKey   string
	CapCount  string
	CapAmount string // dollars, e.g. "150" or "150.00"
}

// AutoRechargeFormOf shows saved settings as the form does.
func AutoRechargeFormOf(s AutoRechargeSettings) AutoRechargeForm {
	return AutoRechargeForm{Enabled: s.Enabled, Threshold: s.Threshold.String(), PackKey: s.PackKey,
		CapCount: strconv.Itoa(s.MonthlyCapCount), CapAmount: FormatAmount(s.MonthlyCapAmount)}
}

// AutoRechargeSettings returns the account's auto-recharge settings, or defaults when none
// were saved.
func (s *Service) AutoRechargeSettings(ctx context.Context, accountID string) (AutoRechargeSettings, error) {
	st, err := s.store.AutoRechargeSettingsOf(ctx, accountID)
	if ErrorCode(err) == ENotFound {
		return AutoRechargeSettings{AccountID: accountID, Threshold: 50 * Credit, PackKey: "growth", MonthlyCapCount: 3,
			MonthlyCapAmount: 150_00, Currency: "usd"}, nil
	}
	return st, err
}

// SaveAutoRecharge validates and stores the user's auto-recharge settings. Switching it on
// needs a saved card; re-enabling after three declines gives three new tries but keeps any
// back-off, which only a successful payment clears. Errors: invalid_request naming fields.
func (s *Service) SaveAutoRecharge(ctx context.Context, userID string, f AutoRechargeForm) (AutoRechargeSettings, error) {
	defer s.rechargeEnabled.invalidate()
	acc, err := s.buyerAccount(ctx, userID)
	if err != nil {
		return AutoRechargeSettings{}, err
	}
	in, err := s.checkAutoRecharge(ctx, acc.ID, f)
	if err != nil {
		return AutoRechargeSettings{}, err
	}
	var out AutoRechargeSettings
	err = s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.AutoRechargeSettingsForUpdate(ctx, acc.ID)
		if err != nil && ErrorCode(err) != ENotFound {
			return err
		}
		if f.Enabled && !cur.Enabled {
			cur.ConsecutiveDeclines, cur.DisabledReason = 0, ""
		}
		cur.AccountID, cur.Enabled, cur.Threshold, cur.PackKey = acc.ID, f.Enabled, in.Threshold, in.PackKey
		cur.MonthlyCapCount, cur.MonthlyCapAmount, cur.Currency, cur.UpdatedAt = in.MonthlyCapCount, in.MonthlyCapAmount, "usd", s.Now()
		out = cur
		if err := tx.SaveAutoRechargeSettings(ctx, cur); err != nil {
			return err
		}
		if f.Enabled && acc.Available() < in.Threshold {
			return tx.Enqueue(ctx, rechargeJob(acc.ID, s.Now()))
		}
		return nil
	})
	return out, err
}

// checkAutoRecharge parses the form; switching on needs a saved card.
func (s *Service) checkAutoRecharge(ctx context.Context, accountID string, f AutoRechargeForm) (AutoRechargeSettings, error) {
	var v Validation
	thr, err := ParseCredits(strings.TrimSpace(f.Threshold))
	switch {
	case err != nil:
		v.Add("threshold", "Enter a number of credits, like 50 or 12.5.")
	case thr < 0:
		v.Add("threshold", "Must not be negative.")
	case thr > 10_000_000*Credit:
		v.Add("threshold", "Use at most 10,000,000 credits.")
	}
	pack, err := s.Pack(ctx, f.PackKey)
	if err != nil || !pack.Active {
		v.Add("pack", "Choose one of the packs on sale.")
	}
	count, err := strconv.Atoi(strings.TrimSpace(f.CapCount))
	if err != nil || count < 1 || count > 100 {
		v.Add("cap_count", "Enter a whole number from 1 to 100.")
	}
	capAmt, err := ParseAmount(f.CapAmount)
	switch {
	case err != nil:
		v.Add("cap_amount", "Enter an amount in dollars, like 150 or 150.00.")
	case pack.Active && capAmt < pack.Prices["usd"]:
		v.Add("cap_amount", "Must be at least the pack's price, %s, or no recharge could ever run.", FormatMoney(pack.Prices["usd"], "usd"))
	case capAmt > 1_000_000_00:
		v.Add("cap_amount", "Use at most $1,000,000.")
	}
	if f.Enabled {
		if c, err := s.store.CustomerOf(ctx, accountID); err != nil || c.PaymentMethod == "" {
			v.Add("enabled", "Buy a pack first: its checkout saves the card that auto-recharge charges.")
		}
	}
	return AutoRechargeSettings{Threshold: thr, PackKey: pack.Key, MonthlyCapCount: count, MonthlyCapAmount: capAmt}, v.Err()
}

type rechargePayload struct {
	AccountID string `json:"account_id"`
}

// rechargeJob is unique per account while queued or running, so a burst enqueues one.
func rechargeJob(accountID string, now time.Time) Job {
	j := NewJob(JobAutoRecharge, rechargePayload{AccountID: accountID}, now, "auto-recharge:"+accountID)
	j.MaxAttempts = 5
	return j
}

// rechargeSet remembers which accounts have auto-recharge on, so the debit path asks the
// database only for batches that contain one. Reloaded every rechargeSetTTL (an account enabled
// on another instance starts recharging within it) and at once after a local change.
type rechargeSet struct {
	mu     sync.Mutex
	ids    map[string]bool
	loaded time.Time
}

const rechargeSetTTL = 10 * time.Second

func (r *rechargeSet) filter(ctx context.Context, tx Tx, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil || time.Since(r.loaded) > rechargeSetTTL {
		list, err := tx.AutoRechargeAccounts(ctx) // in the caller's transaction: never a second connection
		if err != nil {
			return nil, err
		}
		r.ids, r.loaded = make(map[string]bool, len(list)), time.Now()
		for _, id := range list {
			r.ids[id] = true
		}
	}
	out := ids[:0:0]
	for _, id := range ids {
		if r.ids[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// quiet is true when the set is fresh and no account whose available fell has auto-recharge
// on: the hook would then do nothing.
func (r *rechargeSet) quiet(cs []AccountChange) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil || time.Since(r.loaded) > rechargeSetTTL {
		return false
	}
	for _, c := range cs {
		if c.AvailableAfter < c.AvailableBefore && r.ids[c.AccountID] {
			return false
		}
	}
	return true
}

func (r *rechargeSet) invalidate() { r.mu.Lock(); r.ids = nil; r.mu.Unlock() }

// autoRechargeHook runs inside every debit transaction: an account whose available fell
// below its threshold gets a recharge job in the same transaction. One query per batch.
func (s *Service) autoRechargeHook(ctx context.Context, tx Tx, cs []AccountChange) error {
	var ids []string
	for _, c := range cs {
		if c.AvailableAfter < c.AvailableBefore {
			ids = append(ids, c.AccountID)
		}
	}
	ids, err := s.rechargeEnabled.filter(ctx, tx, ids)
	if err != nil || len(ids) == 0 {
		return err
	}
	cands, err := tx.RechargeCandidates(ctx, ids, s.Now())
	if err != nil {
		return err
	}
	for _, st := range cands {
		for _, c := range cs {
			if c.AccountID == st.AccountID && c.AvailableAfter < st.Threshold && c.AvailableAfter < c.AvailableBefore {
				if err := tx.Enqueue(ctx, rechargeJob(st.AccountID, s.Now())); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// registerPaymentJobs adds the payment job kinds to a worker.
func (s *Service) registerPaymentJobs(w *Worker) {
	w.Handle(JobAutoRecharge, s.handleAutoRecharge)
}

// packsToLift is how many packs of size lift available strictly above threshold (at least one).
func packsToLift(available, threshold, size Credits) int {
	if size <= 0 || available > threshold {
		return 1
	}
	return int((threshold-available)/size) + 1
}
