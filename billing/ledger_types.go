package billing

import (
	"context"
	"time"
)

// Grant sources and their default consumption priority (smaller is consumed first).
var defaultPriority = map[string]int{
	"promo": 10, "trial": 10, "subscription": 20, "purchase": 30, "auto_recharge": 30,
	"adjustment": 30, "refund_restore": 30,
}

// DefaultPriority is the consumption priority a grant from source gets unless it names one
// (0 for an unknown source).
func DefaultPriority(source string) int { return defaultPriority[source] }

// Grant is a lot of credits with its own priority and expiry.
type Grant struct {
	ID                    string     `db:"id"`
	AccountID             string     `db:"account_id"`
	Source                string     `db:"source"`
	Amount                Credits    `db:"amount"`
	Remaining             Credits    `db:"remaining"`
	Priority              int        `db:"priority"`
	EffectiveAt           time.Time  `db:"effective_at"`
	ExpiresAt             *time.Time `db:"expires_at"`
	ExpiredAt             *time.Time `db:"expired_at"`
	PaidAmount            int64      `db:"paid_amount"`
	Currency              string     `db:"currency"`
	StripeCheckoutSession *string    `db:"stripe_checkout_session"`
	StripePaymentIntent   *string    `db:"stripe_payment_intent"`
	StripeInvoice         *string    `db:"stripe_invoice"`
	IdempotencyKey        *string    `db:"idempotency_key"`
	RequestHash           string     `db:"request_hash"`
	Actor                 string     `db:"actor"`
	Reason                string     `db:"reason"`
	CreatedAt             time.Time  `db:"created_at"`
	// TestMode marks credits fulfilled by the test-mode provider: no money moved, no revenue.
	TestMode bool `db:"test_mode"`
}

// usable says whether the grant's credits may be spent at now.
func (g *Grant) usable(now time.Time) bool {
	return g.Remaining > 0 && !g.EffectiveAt.After(now) && !g.expiredAt(now)
}

func (g *Grant) expiredAt(now time.Time) bool { return g.ExpiresAt != nil && !g.ExpiresAt.After(now) }

// consumedBefore is the consumption order: priority, soonest expiry (never last), oldest, id.
func (g *Grant) consumedBefore(o *Grant) bool {
	if g.Priority != o.Priority {
		return g.Priority < o.Priority
	}
	switch {
	case g.ExpiresAt != nil && o.ExpiresAt == nil:
		return true
	case g.ExpiresAt == nil && o.ExpiresAt != nil:
		return false
	case g.ExpiresAt != nil && !g.ExpiresAt.Equal(*o.ExpiresAt):
		return g.ExpiresAt.Before(*o.ExpiresAt)
	}
	if !g.CreatedAt.Equal(o.CreatedAt) {
		return g.CreatedAt.Before(o.CreatedAt)
	}
	return g.ID < o.ID
}

// Ledger entry kinds.
const (
	KindGrant   = "grant"
	KindDebit   = "debit"
	KindHold    = "hold"
	KindRelease = "release"
	KindExpire  = "expire"
	KindRevoke  = "revoke"
	KindAdjust  = "adjust"
)

// Entry is one append-only ledger line. Amount is signed; BalanceAfter is the account's
// cached balance once the entry applied.
type Entry struct {
	ID           int64     `db:"id"`
	AccountID    string    `db:"account_id"`
	GrantID      *string   `db:"grant_id"`
	DebitID      *string   `db:"debit_id"`
	HoldID       *string   `db:"hold_id"`
	Kind         string    `db:"kind"`
	Amount       Credits   `db:"amount"`
	BalanceAfter Credits   `db:"balance_after"`
	Actor        string    `db:"actor"`
	Reason       string    `db:"reason"`
	CreatedAt    time.Time `db:"created_at"`
}

// Debit is one idempotent charge. Amount is what was charged (less than Requested only when a
// commit was capped); Overdraft is the part drawn beyond the grants.
type Debit struct {
	ID             string    `db:"id"`
	AccountID      string    `db:"account_id"`
	IdempotencyKey string    `db:"idempotency_key"`
	RequestHash    string    `db:"request_hash"`
	Amount         Credits   `db:"amount"`
	Requested      Credits   `db:"requested"`
	Overdraft      Credits   `db:"overdraft"`
	HoldID         *string   `db:"hold_id"`
	BalanceAfter   Credits   `db:"balance_after"`
	AvailableAfter Credits   `db:"available_after"`
	Actor          string    `db:"actor"`
	Reason         string    `db:"reason"`
	CreatedAt      time.Time `db:"created_at"`
}

// Capped says the charge was limited to what the account could cover.
func (d Debit) Capped() bool { return d.Amount < d.Requested }

// Hold statuses.
const (
	HoldActive    = "active"
	HoldCommitted = "committed"
	HoldReleased  = "released"
	HoldExpired   = "expired"
)

// Hold reserves credits for a long job: it lowers available, not balance.
type Hold struct {
	ID             string     `db:"id"`
	AccountID      string     `db:"account_id"`
	Amount         Credits    `db:"amount"`
	Status         string     `db:"status"`
	ExpiresAt      time.Time  `db:"expires_at"`
	IdempotencyKey string     `db:"idempotency_key"`
	RequestHash    string     `db:"request_hash"`
	DebitID        *string    `db:"debit_id"`
	Actor          string     `db:"actor"`
	Reason         string     `db:"reason"`
	CreatedAt      time.Time  `db:"created_at"`
	ClosedAt       *time.Time `db:"closed_at"`
	// What the hold is for, so a commit prices the actual quantities the same way.
	Action         string `db:"action"`
	AttributesJSON string `db:"attributes"`
	QuantitiesJSON string `db:"quantities"`
	APIKeyID       string `db:"api_key_id"`
	// MemberID is the member the hold (and its commit) is attributed to ("" for none).
	MemberID string `db:"member_id"`
}

// AccountKey names an idempotency key within an account.
type AccountKey struct {
	AccountID string
	Key       string
}

// LedgerState is an account's cached ledger columns.
type LedgerState struct {
	AccountID   string
	Balance     Credits
	Reserved    Credits
	Debt        Credits
	PeriodStart *time.Time
	PeriodSpent Credits
	LastTopup   Credits
	// Version is the account version the state was decided against: the write applies only
	// if the row is still at it. -1 skips the check (the writer holds the account's lock).
	Version int64
}

// LedgerWrites is what one ledger transaction writes besides new grants and holds.
type LedgerWrites struct {
	At      time.Time
	Debits  []Debit
	Usage   []UsageEvent
	Grants  []GrantChange
	Entries []Entry
	States  []LedgerState
}

// GrantChange is a new remaining (and possibly expiry stamp) for a grant.
type GrantChange struct {
	ID        string
	Remaining Credits
	ExpiredAt *time.Time
}

// LedgerTx is what the ledger needs inside a transaction. Every method that takes a slice
// writes it with one statement, so a batch over many accounts costs a fixed number of round trips.
type LedgerTx interface {
	// LockAccounts locks the accounts in id order, whatever order ids come in (so batches
	// never deadlock), and returns those that exist with every grant of theirs that has
	// credits left, read after the locks.
	LockAccounts(ctx context.Context, ids []string) ([]Account, []Grant, error)
	DebitsByKeys(ctx context.Context, keys []AccountKey) ([]Debit, error)
	GrantByKey(ctx context.Context, accountID, key string) (Grant, error)
	// HoldByID reads a hold inside the transaction; ENotFound for an unknown one.
	HoldByID(ctx context.Context, id string) (Hold, error)
	// DebitByKey reads a debit by key inside the transaction; ENotFound when absent.
	DebitByKey(ctx context.Context, accountID, key string) (Debit, error)
	HoldByKey(ctx context.Context, accountID, key string) (Hold, error)
	// ActiveHolds lists an account's active holds, newest first (the caller holds the account lock).
	ActiveHolds(ctx context.Context, accountID string) ([]Hold, error)
	// GrantByID returns ENotFound for an unknown grant. It does not lock: every grant change happens under its account's lock.
	GrantByID(ctx context.Context, id string) (Grant, error)
	InsertGrants(ctx context.Context, gs []Grant) error
	InsertHolds(ctx context.Context, hs []Hold) error
	SetHolds(ctx context.Context, hs []Hold) error
	// WriteLedger writes debits, usage events (and their rollups), grant balances, entries in
	// order and account caches, all stamped At, in one statement. The account rows are
	// updated first; if one is not at its state's Version, nothing is written (ErrStale).
	WriteLedger(ctx context.Context, w LedgerWrites) error
	// Enqueue adds a job; a job whose unique key is already queued is dropped silently.
	Enqueue(ctx context.Context, j Job) error
}

// LedgerCommitter writes a ledger batch decided without locks, as a transaction of its own
// (one statement, one round trip): every account must still be at its state's Version, else
// nothing is written and the error is ErrStale. A taken idempotency key fails it with EConflict.
type LedgerCommitter interface {
	CommitLedger(ctx context.Context, w LedgerWrites) error
	// LedgerAccounts reads accounts, then their live grants (remaining > 0), then their
	// enabled alert rules (grouped by account; only the fields the ledger cache keeps, see
	// cachedRules), without locks: for decisions that are version-checked when written.
	LedgerAccounts(ctx context.Context, ids []string) ([]Account, []Grant, []AlertRule, error)
}

// LedgerReader is what the ledger reads outside a transaction.
type LedgerReader interface {
	// BalanceOf returns the account's cached state and the parts of its balance that are
	// not usable at now (grants past expiry not yet swept, grants not yet effective).
	BalanceOf(ctx context.Context, accountID string, now time.Time) (Account, Credits, error)
	UsableGrants(ctx context.Context, accountID string, now time.Time) ([]Grant, error)
	LedgerPage(ctx context.Context, accountID string, beforeID int64, limit int) ([]Entry, error)
	DebitByKey(ctx context.Context, accountID, key string) (Debit, error)
	HoldByID(ctx context.Context, id string) (Hold, error)
	// ExpiredGrantAccounts lists accounts holding grants past expiry with credits left.
	ExpiredGrantAccounts(ctx context.Context, now time.Time, limit int) ([]string, error)
	// ExpiredHolds lists active holds past their expiry.
	ExpiredHolds(ctx context.Context, now time.Time, limit int) ([]string, error)
	VerifyFacts(ctx context.Context, now time.Time) (VerifyFacts, error)
	// RecentLedgerAccounts returns up to limit accounts among those of the newest `entries`
	// ledger entries, most recent first, with their live grants (remaining > 0), all read
	// in one snapshot and without locks.
	RecentLedgerAccounts(ctx context.Context, entries, limit int) ([]Account, []Grant, error)
	// LedgerAccountsAfter returns up to limit accounts with ids after afterID, in id order,
	// with their live grants and enabled alert rules (as LedgerAccounts reads them), read in
	// one snapshot and without locks.
	LedgerAccountsAfter(ctx context.Context, afterID string, limit int) ([]Account, []Grant, []AlertRule, error)
}
