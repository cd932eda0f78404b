// Package abuse detects abuse of credits and serves the review queue (SPEC section 8). It only
// reads the ledger's results: a job folds new ledger entries into rollups of its own (hourly
// usage, prompt hashes, fresh grants) behind a time horizon, and detectors read those, the
// sign-up networks, rate-limit refusals and checkout sessions. Each detector raises at most
// one open flag per account and kind; the review actions go through billing's audited
// account updates.
package abuse

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"creditline/billing"
)

// Flag kinds, one per detector.
const (
	KindVelocity        = "velocity_spike"
	KindRepeatedPrompt  = "repeated_prompt"
	KindSharedPrompt    = "shared_prompt"
	KindSignupNetwork   = "signup_network"
	KindGrantDrained    = "grant_drained"
	KindRateLimitBurst  = "rate_limit_burst"
	KindRefundAfterUse  = billing.AbuseRefundAfterConsumption
	KindCardTesting     = "card_testing"
	SeverityLow         = 1
	SeverityMedium      = 2
	SeverityHigh        = 3
	StatusOpen          = "open"
	StatusDismissed     = "dismissed"
	StatusActioned      = "actioned"
	StatusResolved      = "resolved" // a filter: dismissed or actioned
	ActionDismiss       = "dismiss"
	ActionSuspend       = "suspend"
	ActionRequireVerify = "require_verification"
	AuditFlagResolve    = "abuse_flag.resolve"
	JobDetect           = "abuse.detect"
	maxNote             = 2000
)

// Kinds lists every kind with its label, in the queue's filter order.
var Kinds = []struct{ Key, Label string }{
	{KindVelocity, "Consumption velocity"},
	{KindRepeatedPrompt, "Repeated prompt"},
	{KindSharedPrompt, "Prompt shared across accounts"},
	{KindSignupNetwork, "Sign-ups from one network"},
	{KindGrantDrained, "Fresh grant drained"},
	{KindRateLimitBurst, "Rate-limit burst"},
	{KindRefundAfterUse, "Refund after consumption"},
	{KindCardTesting, "Card testing"},
}

// KindLabel names a kind for people.
func KindLabel(kind string) string {
	for _, k := range Kinds {
		if k.Key == kind {
			return k.Label
		}
	}
	return kind
}

// SeverityLabel names a severity.
func SeverityLabel(s int) string {
	switch s {
	case SeverityHigh:
		return "high"
	case SeverityLow:
		return "low"
	}
	return "medium"
}

// Flag is one raised suspicion with its evidence and review state.
type Flag struct {
	ID          int64           `db:"id"`
	AccountID   string          `db:"account_id"`
	AccountName string          `db:"account_name"`
	Kind        string          `db:"kind"`
	Ref         string          `db:"ref"`
	Severity    int             `db:"severity"`
	Status      string          `db:"status"`
	Evidence    json.RawMessage `db:"evidence"`
	CreatedAt   time.Time       `db:"created_at"`
	ResolvedAt  *time.Time      `db:"resolved_at"`
	ResolvedBy  string          `db:"resolved_by"`
	Resolution  string          `db:"resolution"`
	Note        string          `db:"note"`
}

// NewFlag is what a detector raises; Since is the start of its evidence window: a flag of
// the same account and kind dismissed after Since suppresses it (same evidence).
type NewFlag struct {
	AccountID string
	Kind      string
	Ref       string
	Severity  int
	Evidence  map[string]any
	Since     time.Time
	At        time.Time
}

// Filter selects flags for the queue.
type Filter struct {
	Status string // open (default), resolved, dismissed, actioned
	Kind   string // "" for every kind
	Limit  int
}

// FoldResult is one step of the rollup job.
type FoldResult struct {
	Entries int   `db:"entries"`
	Events  int   `db:"events"`
	LastID  int64 `db:"last_id"`
}

// Store is what abuse needs from persistence (implemented by store.Abuse).
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	// EnqueueJob does nothing when a job with the same unique key is queued or running.
	EnqueueJob(ctx context.Context, j billing.Job) error
	// Fold folds up to limit ledger entries after the cursor, created before horizon, into the
	// rollups and advances the cursor; it stops at the first entry at or after horizon.
	Fold(ctx context.Context, horizon time.Time, limit int) (FoldResult, error)
	// AddRefusals adds rate-limit refusals counted in memory to the minute's row.
	AddRefusals(ctx context.Context, minute time.Time, counts map[string]int64) error
	// Prune deletes rollup rows older than before (hourly usage: baseFrom).
	Prune(ctx context.Context, before, baseFrom time.Time) error
	Velocity(ctx context.Context, windowStart, baseFrom time.Time, floor billing.Credits) ([]VelocityRow, error)
	RepeatedPrompts(ctx context.Context, since time.Time, minEvents int64) ([]PromptRow, error)
	SharedPrompts(ctx context.Context, since time.Time, minAccounts int) ([]SharedRow, error)
	SignupNetworks(ctx context.Context, since time.Time, minAccounts int) ([]NetworkRow, error)
	DrainedGrants(ctx context.Context, since time.Time, minAmount billing.Credits) ([]DrainedRow, error)
	RefusalBursts(ctx context.Context, since time.Time, min int64) ([]CountRow, error)
	CheckoutBursts(ctx context.Context, since time.Time, min int64) ([]CountRow, error)
	// FailedPayments lists accounts with at least min failed payments since.
	FailedPayments(ctx context.Context, since time.Time, min int64) ([]FailureRow, error)
	// CardNetworks lists networks with at least minAttempts card attempts (unpaid checkouts
	// and failed payments) since, made by at least minAccounts accounts.
	CardNetworks(ctx context.Context, since time.Time, minAttempts int64, minAccounts int) ([]CardNetworkRow, error)
	// Flags lists flags by severity (highest first) and age (oldest first).
	Flags(ctx context.Context, f Filter) ([]Flag, error)
	// FlagByID returns ENotFound for an unknown id.
	FlagByID(ctx context.Context, id int64) (Flag, error)
	FlagsOf(ctx context.Context, accountID string) ([]Flag, error)
	// Related lists other accounts sharing the account's sign-up network or prompt hashes.
	Related(ctx context.Context, accountID string, since time.Time, limit int) ([]RelatedAccount, error)
	UsageDaily(ctx context.Context, accountID string, from, to time.Time) ([]billing.DailyUsage, error)
}

// Tx is what abuse writes in one transaction.
type Tx interface {
	// RaiseFlag inserts a flag unless one of the same account and kind is open, the same
	// kind and ref exists, or one was dismissed after f.Since; it reports whether it did.
	RaiseFlag(ctx context.Context, f NewFlag) (bool, error)
	// LockFlag returns ENotFound for an unknown id.
	LockFlag(ctx context.Context, id int64) (Flag, error)
	ResolveFlag(ctx context.Context, id int64, status, action, note, by string, at time.Time) error
	InsertAudit(ctx context.Context, e billing.AuditEntry) error
}

// VelocityRow is an account's recent usage and its hourly credits over the baseline window
// (hours without usage are absent).
type VelocityRow struct {
	AccountID string          `db:"account_id"`
	Events    int64           `db:"events"`
	Credits   billing.Credits `db:"credits"`
	Hours     []int64         `db:"-"`
}

// PromptRow is one account's events with one prompt hash.
type PromptRow struct {
	AccountID string `db:"account_id"`
	Hash      string `db:"prompt_hash"`
	Events    int64  `db:"events"`
}

// SharedRow is one prompt hash sent by several accounts.
type SharedRow struct {
	Hash     string   `db:"prompt_hash"`
	Events   int64    `db:"events"`
	Accounts []string `db:"-"`
}

// NetworkRow is one sign-up network with its accounts and their trial grants.
type NetworkRow struct {
	Network  string   `db:"ip_prefix"`
	Trials   int64    `db:"trials"`
	Accounts []string `db:"-"`
}

// DrainedRow is a fresh grant with nothing left.
type DrainedRow struct {
	GrantID   string          `db:"id"`
	AccountID string          `db:"account_id"`
	Source    string          `db:"source"`
	Amount    billing.Credits `db:"amount"`
	CreatedAt time.Time       `db:"created_at"`
}

// CountRow is a count per account.
type CountRow struct {
	AccountID string `db:"account_id"`
	Count     int64  `db:"n"`
	Other     int64  `db:"other"`
}

// FailureRow is an account's failed payments by source, and the networks they came from.
type FailureRow struct {
	AccountID string   `db:"account_id"`
	Failures  int64    `db:"n"`
	Checkout  int64    `db:"checkout"`
	Intent    int64    `db:"intent"`
	Recharge  int64    `db:"recharge"`
	Networks  []string `db:"-"`
}

// CardNetworkRow is one network's card attempts and the accounts that made them.
type CardNetworkRow struct {
	Network  string   `db:"ip_prefix"`
	Unpaid   int64    `db:"unpaid"`
	Failed   int64    `db:"failed"`
	Accounts []string `db:"-"`
}

// RelatedAccount is another account that shares something with the flagged one.
type RelatedAccount struct {
	AccountID string `db:"account_id"`
	Name      string `db:"name"`
	Status    string `db:"status"`
	Shares    string `db:"shares"` // "network 203.0.113.0/24" or "prompt <hash>"
}

// Options configures New.
type Options struct {
	// Horizon is how old a ledger entry must be before the rollup folds it: entries ids are
	// allocated before commit, so a younger one may still be preceded by an uncommitted
	// one. 0 is DefaultHorizon.
	Horizon time.Duration
	// Every is the period of the detector job; 0 is one minute.
	Every time.Duration
	Log   *slog.Logger
}

// DefaultHorizon is the time lag behind which the ledger is read (see Options.Horizon).
const DefaultHorizon = 30 * time.Second

// Service runs the detectors and the review actions.
type Service struct {
	billing *billing.Service
	store   Store
	horizon time.Duration
	every   time.Duration
	log     *slog.Logger
}

// New builds the service over billing (clock, settings, account actions) and a store.
func New(b *billing.Service, st Store, o Options) *Service {
	s := &Service{billing: b, store: st, horizon: o.Horizon, every: o.Every, log: o.Log}
	if s.horizon <= 0 {
		s.horizon = DefaultHorizon
	}
	if s.every <= 0 {
		s.every = time.Minute
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

func (s *Service) now() time.Time { return s.billing.Now() }
