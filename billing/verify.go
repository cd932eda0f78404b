package billing

import (
	"context"
	"fmt"
)

// GrantFact is what verify needs to know about one grant. Amounts are BigCredits: sums are
// numeric in SQL and a corrupt row may hold anything a bigint can, so verify reads them whole.
type GrantFact struct {
	ID        string     `db:"id"`
	AccountID string     `db:"account_id"`
	Amount    BigCredits `db:"amount"`
	Remaining BigCredits `db:"remaining"`
	// EntrySum is the sum of its debit, expire, revoke and adjust entries.
	EntrySum BigCredits `db:"entry_sum"`
	// Granted is the sum of its grant entries (must equal Amount).
	Granted BigCredits `db:"granted"`
}

// AccountFact is what verify needs to know about one account.
type AccountFact struct {
	ID             string     `db:"id"`
	Balance        BigCredits `db:"balance"`
	Reserved       BigCredits `db:"reserved"`
	Debt           BigCredits `db:"debt"`
	OverdraftLimit BigCredits `db:"overdraft_limit"`
	SumRemaining   BigCredits `db:"sum_remaining"`
	// Pending is credits of grants not yet effective (in the cache, not yet usable).
	Pending BigCredits `db:"pending"`
	// ActiveHolds is the sum of active holds.
	ActiveHolds BigCredits `db:"active_holds"`
	// HoldEntries is the sum of hold and release entries (minus what is reserved).
	HoldEntries BigCredits `db:"hold_entries"`
	// DebtEntries is the sum of entries with no grant other than holds (overdraft drawn and repaid).
	DebtEntries BigCredits `db:"debt_entries"`
	// LastBalance is the balance_after of the account's newest entry (null: none).
	LastBalance *BigCredits `db:"last_balance"`
}

// DebitFact is a debit whose allocations do not sum to its amount.
type DebitFact struct {
	ID          string     `db:"id"`
	AccountID   string     `db:"account_id"`
	Amount      BigCredits `db:"amount"`
	Allocations BigCredits `db:"allocations"`
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
	// StaleRuleCopies lists accounts whose row's copy of their enabled debit-path alert rules
	// (what a cold read hands the ledger cache) is not what their rules say.
	StaleRuleCopies []string
	// MemberCounters lists limited members whose spend counter disagrees with the usage
	// attributed to them since the counter's period start (the counter the limit is checked on).
	MemberCounters []MemberCounterFact
}

// MemberCounterFact is a member whose counter is not their attributed usage.
type MemberCounterFact struct {
	AccountID string  `db:"account_id"`
	MemberID  string  `db:"member_id"`
	Counter   Credits `db:"counter"`
	Usage     Credits `db:"usage"`
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

// CheckInvariants is the rule part of Verify. It works in big integers: it reports, and never
// overflows or panics on, any value the database can hold.
func CheckInvariants(f VerifyFacts) []Violation {
	var out []Violation
	add := func(acc string, inv int, format string, args ...any) {
		out = append(out, Violation{acc, inv, fmt.Sprintf(format, args...)})
	}
	for i := range f.Grants {
		g := &f.Grants[i]
		if sum := g.Amount.Add(&g.EntrySum); g.Remaining.Cmp(sum) != 0 {
			add(g.AccountID, 1, "grant %s: remaining %s != amount %s + entries %s", g.ID, g.Remaining, g.Amount, g.EntrySum)
		}
		if g.Remaining.Sign() < 0 || g.Remaining.Cmp(&g.Amount) > 0 {
			add(g.AccountID, 1, "grant %s: remaining %s outside 0..%s", g.ID, g.Remaining, g.Amount)
		}
		if g.Granted.Cmp(&g.Amount) != 0 {
			add(g.AccountID, 1, "grant %s: grant entries %s != amount %s", g.ID, g.Granted, g.Amount)
		}
		if g.Amount.Outside(1, MaxCredits) {
			add(g.AccountID, 1, "grant %s: amount %s outside the bounds 0.001..%s", g.ID, g.Amount, MaxCredits)
		}
	}
	for i := range f.Accounts {
		a := &f.Accounts[i]
		if want := a.SumRemaining.Sub(&a.Debt); a.Balance.Cmp(want) != 0 {
			add(a.ID, 2, "cached balance %s != grants remaining %s - debt %s", a.Balance, a.SumRemaining, a.Debt)
		}
		if a.Debt.Cmp(a.DebtEntries.Neg()) != 0 {
			add(a.ID, 2, "debt %s != overdraft entries %s", a.Debt, a.DebtEntries.Neg())
		}
		if a.Reserved.Cmp(&a.ActiveHolds) != 0 || a.Reserved.Cmp(a.HoldEntries.Neg()) != 0 {
			add(a.ID, 2, "reserved %s, active holds %s, hold entries %s disagree", a.Reserved, a.ActiveHolds, a.HoldEntries.Neg())
		}
		if avail := a.Balance.Sub(&a.Pending).Sub(&a.Reserved); avail.Cmp(a.OverdraftLimit.Neg()) < 0 {
			add(a.ID, 2, "available %s below -overdraft_limit %s", avail, a.OverdraftLimit)
		}
		if a.LastBalance != nil && a.LastBalance.Cmp(&a.Balance) != 0 {
			add(a.ID, 2, "newest ledger entry says balance %s, cache says %s", a.LastBalance, a.Balance)
		}
		switch {
		case a.Balance.Outside(-MaxBalance, MaxBalance):
			add(a.ID, 2, "balance %s outside the bounds ±%s", a.Balance, MaxBalance)
		case a.Reserved.Outside(0, MaxBalance):
			add(a.ID, 2, "reserved %s outside the bounds 0..%s", a.Reserved, MaxBalance)
		case a.OverdraftLimit.Outside(0, MaxCredits):
			add(a.ID, 2, "overdraft_limit %s outside the bounds 0..%s", a.OverdraftLimit, MaxCredits)
		}
	}
	for i := range f.DebitMismatches {
		d := &f.DebitMismatches[i]
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
	for _, acc := range f.StaleRuleCopies {
		add(acc, 2, "the account's copy of its debit-path alert rules disagrees with its rules")
	}
	for _, acc := range f.RollupMismatches {
		add(acc, 4, "daily usage rollups disagree with the usage events")
	}
	for _, m := range f.MemberCounters {
		add(m.AccountID, 4, "member %s: spend counter %s != attributed usage %s this period", m.MemberID, m.Counter, m.Usage)
	}
	return out
}
