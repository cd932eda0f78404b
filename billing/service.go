package billing

import (
	"context"
	"sync/atomic"
	"time"
)

// Service is the domain's entry point: every rule lives behind its methods, and it owns
// the transactions. Handlers call one method per request.
type Service struct {
	store Store
	now   func() time.Time
	live  LiveBook // published price books for the hot path (LoadLiveBook)
	// debitHooks run inside every debit transaction (OnDebit).
	debitHooks []DebitHook
	debitQuiet []DebitHookQuiet
	// ledger caches accounts and live grants for lock-free debit batches (applyOps).
	ledger       ledgerCache
	ledgerStats  LedgerStats
	ledgerLocked bool // SetLockFreeDebits(false)
	plans        planCache
	keys         keyCache
	gc           atomic.Pointer[GroupCommit]
	accounts     accountCache
	apiLimits    apiLimiters // per-plan API rate limits (AuthorizeAccount)
	// rechargeEnabled lets the debit path skip the auto-recharge query for most batches.
	rechargeEnabled rechargeSet
	payments        Payments // UsePayments
	mailer          Mailer   // UseMailer; nil keeps mail in the outbox
	// PasswordCost is the bcrypt cost; tests lower it.
	PasswordCost int
	// TrialCredits is granted once at portal sign-up (an operator setting; 0 turns it off).
	TrialCredits Credits
}

// NewService builds a Service over a store. now may be nil (time.Now).
func NewService(s Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: s, now: now, PasswordCost: 11, TrialCredits: 50 * Credit}
}

// Now is the service clock, UTC, at PostgreSQL's microsecond precision (so a replayed
// response read back from the database equals the first one).
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Store is what the domain needs from persistence. Reads outside a transaction are
// snapshots; every change happens inside InTx.
type Store interface {
	PriceBookStore
	PlanStore
	// InTx runs fn in one transaction, committing when fn returns nil.
	InTx(ctx context.Context, fn func(Tx) error) error
	LedgerCommitter
	// UserByEmail returns ENotFound when no user has that (lower-cased) email.
	UserByEmail(ctx context.Context, email string) (User, error)
	// UserByID returns ENotFound for an unknown id.
	UserByID(ctx context.Context, id string) (User, error)
	AuthStore
	// MembershipsOf lists the accounts a user belongs to, oldest first.
	MembershipsOf(ctx context.Context, userID string) ([]Membership, error)
	// AccountByID returns ENotFound for an unknown id.
	AccountByID(ctx context.Context, id string) (Account, error)
	// AccountByExternalID returns ENotFound for an unknown external id.
	AccountByExternalID(ctx context.Context, externalID string) (Account, error)
	// Counts returns platform-wide totals for the admin overview.
	Counts(ctx context.Context) (PlatformCounts, error)
	LedgerReader
	JobStore
	UsageStore
	APIKeyStore
	PaymentsStore
	DashboardStore
	AuditStore
	AdminStore
}

// Tx is the set of writes available inside a transaction.
type Tx interface {
	PriceBookTx
	PlanTx
	// CreateUser returns EConflict when the email is taken.
	CreateUser(ctx context.Context, u User) error
	AuthTx
	// SetAdmin marks a user as platform admin and, when hash is non-empty, sets the password.
	SetAdmin(ctx context.Context, userID string, passwordHash string) error
	// CreateAccount returns EConflict when external_id is taken.
	CreateAccount(ctx context.Context, a Account) error
	AddMembership(ctx context.Context, m Membership) error
	// SetOverdraftLimit returns ENotFound for an unknown account.
	SetOverdraftLimit(ctx context.Context, accountID string, limit Credits) error
	// SetAccountStatus, SetSpendLimit and SetAccountPlan return ENotFound for an unknown account.
	SetAccountStatus(ctx context.Context, accountID, status, reason string) error
	SetSpendLimit(ctx context.Context, accountID string, limit *Credits, mode string, lowBalance *Credits) error
	SetAccountPlan(ctx context.Context, accountID, planKey string) error
	LedgerTx
	PaymentsTx
	DashboardTx
	AuditTx
	AdminTx
}
