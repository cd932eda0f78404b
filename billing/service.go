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
	ledgerLocked bool // Options.LockedDebits
	plans        planCache
	keys         keyCache
	gc           atomic.Pointer[GroupCommit]
	accounts     accountCache
	cold         coldLoader
	apiLimits    apiLimiters // per-plan API rate limits (AuthorizeAccount)
	// refusals counts rate-limit refusals for abuse detection.
	refusals refusalCounts
	// rechargeEnabled lets the debit path skip the auto-recharge query for most batches.
	rechargeEnabled rechargeSet
	payments        Payments // nil: no payments (maintenance commands)
	mailer          Mailer   // nil keeps mail in the outbox
	passwordCost    int
	trialCredits    Credits
	dunning         DunningOptions
	retention       time.Duration
	alertLinkCfg    atomic.Pointer[alertLinkConfig] // Options.AlertLinks
	members         memberCache                     // per-account members for attribution
	activity        memberActivity                  // members' last-active times, batched
}

// Options configures a Service, once, at NewService; the zero value is the production
// default of every tuning option. Each says whether production must set it.
type Options struct {
	// Now is the clock; nil is time.Now. Production leaves it nil; tests pass a fake clock.
	Now func() time.Time
	// Payments is the provider (Stripe, or test mode with PAYMENTS=test) and turns on
	// auto-recharge after debits. Production serving must set it; the maintenance commands
	// (migrate, seed, verify, apikey) leave it nil, and checkouts are then refused.
	Payments Payments
	// Mailer delivers mail. Production sets it when SMTP_URL is configured; nil keeps every
	// message in the admin outbox.
	Mailer Mailer
	// PasswordCost is the bcrypt cost; 0 is DefaultPasswordCost. Production leaves it 0;
	// tests lower it to bcrypt's minimum (4), since they hash many passwords.
	PasswordCost int
	// TrialCredits are granted once at portal sign-up; nil is DefaultTrialCredits, a pointer
	// to 0 turns the trial off. An operator setting: production may leave it nil.
	TrialCredits *Credits
	// LockedDebits turns the lock-free debit path off, so every debit batch locks its accounts
	// and reads them first. Production must leave it false; tests set it to check the locked
	// path alone.
	LockedDebits bool
	// Dunning sets the grace period of failed subscription payments and the links in its
	// mail. Production sets both (DUNNING_GRACE_DAYS, BASE_URL); tests may leave it zero.
	Dunning DunningOptions
	// AlertLinks gives alert mail its links: BaseURL (BASE_URL) and Secret, the key that signs
	// unsubscribe links (SESSION_SECRET, so every instance signs alike). Production sets both;
	// without a secret the key is random per process (tests, maintenance commands).
	AlertLinks AlertLinks
	// Retention is how long finished jobs, sent mail and settled webhook deliveries are kept
	// (RETENTION_DAYS); 0 is DefaultRetention.
	Retention time.Duration
	// LedgerCacheAccounts bounds the accounts the debit path keeps in memory (ledger cache;
	// routing snapshots get twice as many refs); 0 is DefaultLedgerCacheAccounts. Production
	// sets it from LEDGER_CACHE_ACCOUNTS; tests lower it to exercise eviction.
	LedgerCacheAccounts int
}

// Defaults of Options.
const (
	DefaultPasswordCost = 11
	DefaultTrialCredits = 50 * Credit
)

// NewService builds a Service over a store.
func NewService(s Store, o Options) *Service {
	svc := &Service{store: s, now: o.Now, payments: o.Payments, mailer: o.Mailer, passwordCost: o.PasswordCost,
		trialCredits: DefaultTrialCredits, ledgerLocked: o.LockedDebits, dunning: o.Dunning,
		retention: o.Retention}
	if svc.now == nil {
		svc.now = time.Now
	}
	svc.ledger.max, svc.accounts.max = o.LedgerCacheAccounts, 2*o.LedgerCacheAccounts
	if svc.passwordCost == 0 {
		svc.passwordCost = DefaultPasswordCost
	}
	if o.TrialCredits != nil {
		svc.trialCredits = *o.TrialCredits
	}
	if o.Payments != nil {
		svc.OnDebit(svc.autoRechargeHook, svc.rechargeEnabled.quiet)
	}
	if o.AlertLinks.BaseURL != "" || len(o.AlertLinks.Secret) > 0 {
		svc.setAlertLinks(o.AlertLinks)
	}
	return svc
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
	NotificationStore
	DashboardStore
	AuditStore
	AdminStore
	AlertStore
	OperatorSettingStore
	TeamStore
}

// Tx is the set of writes available inside a transaction.
type Tx interface {
	PriceBookTx
	PlanTx
	OperatorSettingTx
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
	AuditTx
	AdminTx
	DunningTx
	AccountEventsTx
	AlertTx
	AbuseTx
	TeamTx
}
