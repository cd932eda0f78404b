package billing

import (
	"context"
	"time"
)

// Limits is the customer's limits page: the spend limit against this period's spend.
type Limits struct {
	Account   Account
	Spent     Credits
	ResetsAt  time.Time
	CanManage bool
}

// Percent is the share of the limit spent, 0-100 (nil limit: 0; a zero limit counts as spent).
func (l Limits) Percent() int {
	if l.Account.SpendLimit == nil {
		return 0
	}
	lim := *l.Account.SpendLimit
	if lim <= 0 {
		return 100
	}
	return int(min(100, max(0, int64(l.Spent)*100/int64(lim))))
}

// Limits reads the account afresh with its period's spend. The period is the calendar month
// the ledger counts spend in (PeriodResetsAt). Errors: not_found.
func (s *Service) Limits(ctx context.Context, acc Account, role string) (Limits, error) {
	a, err := s.store.AccountByID(ctx, acc.ID)
	if err != nil {
		return Limits{}, err
	}
	now := s.Now()
	return Limits{Account: a, Spent: a.SpentThisPeriod(now), ResetsAt: a.PeriodResetsAt(now), CanManage: CanManageAccount(role)}, nil
}

// customerUpdate is the one write path for a customer's limits: UpdateAccount with the scope
// of an account key (status active/paused and the spend limit only), audited as op's actor.
func (s *Service) customerUpdate(ctx context.Context, role string, u AccountUpdate) (Account, error) {
	if err := Authorize(role, ActManageLimits); err != nil {
		return Account{}, err
	}
	u.Scope = ScopeAccountKey
	res, err := s.UpdateAccount(ctx, u)
	return res.Account, err
}

// SetCustomerSpendLimit sets (or, with ch.Clear, removes) the account's monthly spend limit
// from the portal. Errors: not_found (role), invalid_request (spend_limit, spend_limit_mode),
// not_found, account_suspended.
func (s *Service) SetCustomerSpendLimit(ctx context.Context, acc Account, role string, ch SpendLimitChange, op Op) (Account, error) {
	if op.Reason == "" {
		op.Reason = "Spend limit changed on the Limits page."
	}
	return s.customerUpdate(ctx, role, AccountUpdate{AccountID: acc.ID, SpendLimit: &ch, Op: op})
}

// SetCustomerPaused pauses (true) or resumes the account's usage from the portal; a
// suspended account stays suspended. Errors: not_found (role), not_found, account_suspended.
func (s *Service) SetCustomerPaused(ctx context.Context, acc Account, role string, paused bool, op Op) (Account, error) {
	status := StatusActive
	if paused {
		status = StatusPaused
	}
	if op.Reason == "" {
		op.Reason = "Usage resumed on the Limits page."
		if paused {
			op.Reason = "Usage paused on the Limits page."
		}
	}
	return s.customerUpdate(ctx, role, AccountUpdate{AccountID: acc.ID, Status: &status, Op: op})
}
