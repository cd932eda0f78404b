package billing

import (
	"context"
	"fmt"
)

// GrantFact is what verify needs to know about one grant.
type GrantFact struct {
	ID        string  `db:"id"`
	AccountID string  `db:"account_id"`
	Amount    Credits `db:"amount"`
	Remaining Credits `db:"remaining"`
	// EntrySum is the sum of its debit, expire, revoke and adjust entries.
	EntrySum Credits `db:"entry_sum"`
	// Granted is the sum of its grant entries (must equal Amount).
	Granted Credits `db:"granted"`
}

// AccountFact is what verify needs to know about one account.
type AccountFact struct {
	ID             string  `db:"id"`
	Balance        Credits `db:"balance"`
	Reserved       Credits `db:"reserved"`
	Debt           Credits `db:"debt"`
	OverdraftLimit Credits `db:"overdraft_limit"`
	SumRemaining   Credits `db:"sum_remaining"`
	// Pending is credits of grants not yet effective (in the cache, not yet usable).
	Pending Credits `db:"pending"`
	// ActiveHolds is the sum of active holds.
	ActiveHolds Credits `db:"active_holds"`
	// HoldEntries is the sum of hold and release entries (minus what is reserved).
	HoldEntries Credits `db:"hold_entries"`
	// DebtEntries is the sum of entries with no grant other than holds (overdraft drawn and repaid).
	DebtEntries Credits `db:"debt_entries"`
	// LastBalance is the balance_after of the account's newest entry (null: none).
	LastBalance *Credits `db:"last_balance"`
}

// DebitFact is a debit whose allocations do not sum to its amount.
type DebitFact struct {
	ID          string  `db:"id"`
	AccountID   string  `db:"account_id"`
	Amount      Credits `db:"amount"`
	Allocations Credits `db:"allocations"`
}

// VerifyFacts are gathered in one read-only snapshot.
type VerifyFacts struct {
	Grants          []GrantFact
	Accounts        []AccountFact
	DebitMismatches []DebitFact
	// DuplicateKeys lists account/key pairs charged more than once.
	DuplicateKeys []AccountKey
	// UsageWithoutOneDebit lists usage events that do not have exactly one debit.
	UsageWithoutOneDebit []string
	// RollupMismatches lists accounts whose daily rollups disagree with their events.
	RollupMismatches []string
	// Orphans are ledger rows naming an account, grant, debit or hold that does not exist.
	Orphans []Orphan
}

// Orphan is a row with a dangling reference.
type Orphan struct {
	AccountID string `db:"account_id"`
	Detail    string `db:"detail"`
}

// Violation is one broken invariant.
type Violation struct {
	AccountID string
	Invariant int
	Detail    string
}

func (v Violation) String() string {
	return fmt.Sprintf("account %s: invariant %d: %s", v.AccountID, v.Invariant, v.Detail)
}

// Verify checks the four ledger invariants of SPEC section 2 for every account.
func (s *Service) Verify(ctx context.Context) ([]Violation, error) {
	f, err := s.store.VerifyFacts(ctx, s.Now())
	if err != nil {
		return nil, err
	}
	return CheckInvariants(f), nil
}

// CheckInvariants is the rule part of Verify.
func CheckInvariants(f VerifyFacts) []Violation {
	var out []Violation
	add := func(acc string, inv int, format string, args ...any) {
		out = append(out, Violation{acc, inv, fmt.Sprintf(format, args...)})
	}
	for _, g := range f.Grants {
		if g.Remaining != g.Amount+g.EntrySum {
			add(g.AccountID, 1, "grant %s: remaining %s != amount %s + entries %s", g.ID, g.Remaining, g.Amount, g.EntrySum)
		}
		if g.Remaining < 0 || g.Remaining > g.Amount {
			add(g.AccountID, 1, "grant %s: remaining %s outside 0..%s", g.ID, g.Remaining, g.Amount)
		}
		if g.Granted != g.Amount {
			add(g.AccountID, 1, "grant %s: grant entries %s != amount %s", g.ID, g.Granted, g.Amount)
		}
	}
	for _, a := range f.Accounts {
		if a.Balance != a.SumRemaining-a.Debt {
			add(a.ID, 2, "cached balance %s != grants remaining %s - debt %s", a.Balance, a.SumRemaining, a.Debt)
		}
		if a.Debt != -a.DebtEntries {
			add(a.ID, 2, "debt %s != overdraft entries %s", a.Debt, -a.DebtEntries)
		}
		if a.Reserved != a.ActiveHolds || a.Reserved != -a.HoldEntries {
			add(a.ID, 2, "reserved %s, active holds %s, hold entries %s disagree", a.Reserved, a.ActiveHolds, -a.HoldEntries)
		}
		if avail := a.Balance - a.Pending - a.Reserved; avail < -a.OverdraftLimit {
			add(a.ID, 2, "available %s below -overdraft_limit %s", avail, a.OverdraftLimit)
		}
		if a.LastBalance != nil && *a.LastBalance != a.Balance {
			add(a.ID, 2, "newest ledger entry says balance %s, cache says %s", *a.LastBalance, a.Balance)
		}
	}
	for _, d := range f.DebitMismatches {
		add(d.AccountID, 3, "debit %s: allocations %s != credits %s", d.ID, d.Allocations, d.Amount)
	}
	for _, k := range f.DuplicateKeys {
		add(k.AccountID, 4, "idempotency key %q charged more than once", k.Key)
	}
	for _, id := range f.UsageWithoutOneDebit {
		add("?", 4, "usage event %s does not match exactly one debit", id)
	}
	for _, o := range f.Orphans {
		add(o.AccountID, 3, "%s", o.Detail)
	}
	for _, acc := range f.RollupMismatches {
		add(acc, 4, "daily usage rollups disagree with the usage events")
	}
	return out
}
