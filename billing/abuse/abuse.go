// Package abuse detects abuse of credits and serves the review queue (SPEC section 8). It only
// reads the ledger's results: a job folds committed ledger entries, in id order behind the
// ledger's horizon, into rollups of its own (hourly usage, prompt hashes, fresh grants), and
// detectors read those, the sign-up networks, rate-limit refusals, checkout sessions and
// failed payments. Each detector raises at most one open flag per account and kind; the review
// actions go through billing's audited account updates.
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

// FoldCursor is where the rollup job stands: every ledger entry up to LastID is folded; the
// entries up to PendingUpto are folded once none of PendingVxids runs any more.
type FoldCursor struct {
	LastID       int64
	PendingUpto  int64
	PendingVxids []string
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
	// LockFoldCursor reads where the fold stands and holds it until the transaction ends.
	LockFoldCursor(ctx context.Context) (FoldCursor, error)
	SaveFoldCursor(ctx context.Context, c FoldCursor) error
	// LedgerHorizon is the highest ledger id handed out so far, then the transactions that may
	// still be writing entries up to it (read in that order; the revenue consumer's horizon).
	LedgerHorizon(ctx context.Context) (upto int64, vxids []string, err error)
	// LedgerWritersRunning says whether any of the transactions is still running.
	LedgerWritersRunning(ctx context.Context, vxids []string) (bool, error)
	// FoldLedger folds up to limit ledger entries with ids in (after, upto] into the rollups
	// (grants created before grantsFrom are not kept); LastID is the last id it read.
	FoldLedger(ctx context.Context, after, upto int64, limit int, grantsFrom time.Time) (FoldResult, error)
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
	// Every is the period of the detector job; 0 is one minute.
	Every time.Duration
	// WaitWriters is how long a run waits for the ledger's writers listed with a fresh horizon
	// to end before it leaves the fold to the next run; 0 is DefaultWaitWriters.
	WaitWriters time.Duration
	Log         *slog.Logger
}

// DefaultWaitWriters bounds a run's wait for the ledger's writers (see Options.WaitWriters):
// a debit's transaction lasts milliseconds.
const DefaultWaitWriters = 2 * time.Second

// Service runs the detectors and the review actions.
type Service struct {
	billing *billing.Service
	store   Store
	every   time.Duration
	wait    time.Duration
	log     *slog.Logger
}

// New builds the service over billing (clock, settings, account actions) and a store.
func New(b *billing.Service, st Store, o Options) *Service {
	s := &Service{billing: b, store: st, every: o.Every, wait: o.WaitWriters, log: o.Log}
	if s.every <= 0 {
		s.every = time.Minute
	}
	if s.wait <= 0 {
		s.wait = DefaultWaitWriters
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

func (s *Service) now() time.Time { return s.billing.Now() }
