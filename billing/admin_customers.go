package billing

import (
	"context"
	"strings"
	"time"
)

// CustomerRow is one account in the console's customer search.
type CustomerRow struct {
	ID         string    `db:"id"`
	Name       string    `db:"name"`
	ExternalID *string   `db:"external_id"`
	Email      string    `db:"email"`
	OwnerEmail string    `db:"owner_email"`
	Status     string    `db:"status"`
	PlanKey    string    `db:"plan_key"`
	Balance    Credits   `db:"balance"`
	Reserved   Credits   `db:"reserved"`
	CreatedAt  time.Time `db:"created_at"`
}

// AccountMember is a user of an account with their role.
type AccountMember struct {
	UserID    string    `db:"user_id"`
	Email     string    `db:"email"`
	Name      string    `db:"name"`
	Role      string    `db:"role"`
	CreatedAt time.Time `db:"created_at"`
}

// CustomerQuery is a customer search: a prefix of an email (the account's or a member's),
// a name (any case), an account id or an external id; keyset-paginated newest first.
type CustomerQuery struct {
	Q string
	// BeforeID is the cursor: the last account id of the previous page.
	BeforeID string
	Limit    int
}

// AdminStore reads what the console shows about customers; each method is one query.
type AdminStore interface {
	AdminOverviewStore
	AdminJobStore
	// SearchAccounts returns up to q.Limit accounts matching q, newest first.
	SearchAccounts(ctx context.Context, q CustomerQuery) ([]CustomerRow, error)
	// AccountMembers lists an account's members, owners first.
	AccountMembers(ctx context.Context, accountID string) ([]AccountMember, error)
	// GrantsOf lists an account's grants newest first, spent and expired ones too.
	GrantsOf(ctx context.Context, accountID string, limit int) ([]Grant, error)
	// OpenHolds lists an account's active holds, newest first.
	OpenHolds(ctx context.Context, accountID string, limit int) ([]Hold, error)
}

// CustomerPage is a page of the search and the cursor of the next ("" : none).
type CustomerPage struct {
	Rows []CustomerRow
	Next string
}

// SearchCustomers finds accounts by prefix. Errors: invalid_request (query too long).
func (s *Service) SearchCustomers(ctx context.Context, q CustomerQuery) (CustomerPage, error) {
	q.Q = strings.ToLower(strings.TrimSpace(q.Q))
	if len(q.Q) > 200 {
		return CustomerPage{}, FieldError("q", "Use at most 200 characters.")
	}
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	want := q.Limit
	q.Limit++
	rows, err := s.store.SearchAccounts(ctx, q)
	if err != nil {
		return CustomerPage{}, err
	}
	p := CustomerPage{Rows: rows}
	if len(rows) > want {
		p.Rows, p.Next = rows[:want], rows[want-1].ID
	}
	return p, nil
}

// How much of each list the account page shows; the ledger and usage are paginated.
const (
	CustomerPageGrants = 50
	CustomerPageLedger = 50
	CustomerPageHolds  = 20
	CustomerPageAudit  = 25
)

// AccountPageQuery says where the account page's paginated lists start.
type AccountPageQuery struct {
	// LedgerBefore starts the ledger below this entry id (0: the newest).
	LedgerBefore int64
	// Usage is the customer's usage filter, with its cursor and page size; CustomerDetail
	// scopes it to the account.
	Usage UsageFilter
}

// LedgerPage is a page of an account's ledger, newest first, and the cursor of the older
// page (0: none).
type LedgerPage struct {
	Entries []Entry
	Next    int64
}

// CustomerDetail is everything the console's account page shows.
type CustomerDetail struct {
	Now          time.Time
	Account      Account
	Plan         Plan
	Plans        []Plan
	Balance      BalanceSummary
	Spent        Credits
	Members      []AccountMember
	Grants       []Grant
	Holds        []Hold
	Ledger       LedgerPage
	Usage        UsageListing
	Payments     []Payment
	AutoRecharge AutoRechargeSettings
	Recharges    []Recharge
	Keys         []APIKey
	Flags        []AbuseFlag
	Audit        []AuditEntry
}

// Debt is the overdraft drawn and not repaid.
func (d CustomerDetail) Debt() Credits { return d.Account.Debt }

// CustomerLedger reads one keyset page of an account's ledger (CustomerPageLedger entries)
// below entry before (0: the newest): a deep page costs what the first does.
func (s *Service) CustomerLedger(ctx context.Context, accountID string, before int64) (LedgerPage, error) {
	es, err := s.store.LedgerPage(ctx, accountID, before, CustomerPageLedger+1)
	if err != nil {
		return LedgerPage{}, err
	}
	p := LedgerPage{Entries: es}
	if len(es) > CustomerPageLedger {
		p.Entries = es[:CustomerPageLedger]
		p.Next = p.Entries[CustomerPageLedger-1].ID
	}
	return p, nil
}

// CustomerDetail gathers an account for the console; its usage is UsageListing with the
// customer's own filters, so an operator sees what the customer sees. Errors: not_found.
func (s *Service) CustomerDetail(ctx context.Context, accountID string, q AccountPageQuery) (CustomerDetail, error) {
	d := CustomerDetail{Now: s.Now()}
	var err error
	if d.Balance, err = s.Balance(ctx, accountID); err != nil {
		if ErrorCode(err) == ENotFound {
			return d, Errorf(ENotFound, "No account %s.", accountID)
		}
		return d, err
	}
	d.Account = d.Balance.Account
	d.Spent = d.Account.SpentThisPeriod(d.Now)
	if d.Plan, err = s.AccountPlan(ctx, d.Account); err != nil {
		return d, err
	}
	if d.Plans, err = s.Plans(ctx); err != nil {
		return d, err
	}
	q.Usage.AccountID = accountID
	steps := []func() error{
		func() (err error) { d.Members, err = s.store.AccountMembers(ctx, accountID); return },
		func() (err error) { d.Grants, err = s.store.GrantsOf(ctx, accountID, CustomerPageGrants); return },
		func() (err error) { d.Holds, err = s.store.OpenHolds(ctx, accountID, CustomerPageHolds); return },
		func() (err error) { d.Ledger, err = s.CustomerLedger(ctx, accountID, q.LedgerBefore); return },
		func() (err error) { d.Usage, err = s.UsageListing(ctx, q.Usage, true); return },
		func() (err error) { d.Payments, err = s.store.ListPayments(ctx, accountID, 20); return },
		func() (err error) { d.AutoRecharge, err = s.AutoRechargeSettings(ctx, accountID); return },
		func() (err error) { d.Recharges, err = s.store.ListRecharges(ctx, accountID, 5); return },
		func() (err error) { d.Keys, err = s.store.APIKeysOf(ctx, accountID); return },
		func() (err error) { d.Flags, err = s.store.ListAbuseFlags(ctx, accountID); return },
		func() (err error) {
			d.Audit, err = s.store.AuditPage(ctx, AuditFilter{AccountID: accountID, Limit: CustomerPageAudit})
			return
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return d, err
		}
	}
	return d, nil
}
