package billing

import (
	"context"
	"fmt"
	"sort"
	"time"

	"creditline/billing/value"
)

// EMemberLimit refuses usage attributed to a member beyond their monthly limit (402).
const EMemberLimit = value.EMemberLimit

// Per-member monthly limits on the debit path. An account whose members have no limit
// (member_limits false, cached with the account) decides every debit as before, lock-free, at
// no extra cost. A debit attributed to a member of an account with limits is decided under
// the account's lock: loadMembers reads the counters of the batch's members that have a limit,
// the decision checks and adds to them in order, and flush writes them in the same transaction
// as the debits. Every writer of a counter holds the account's lock (UpdateMember too, which
// recounts it from usage when a limit is set), so concurrent debits never pass a limit.

// loadMembers reads, under the accounts' locks, the counters of the limited members the
// debits of ops are attributed to.
func (b *book) loadMembers(ctx context.Context, tx Tx, ops []ledgerOp, res []opResult) error {
	b.members = map[string]*MemberSpend{}
	var byAcct map[string][]string
	for i, op := range ops {
		if op.debit == nil || op.debit.MemberID == "" || res[i].debit.Err != nil {
			continue
		}
		st := b.accounts[op.debit.AccountID]
		if st == nil || !st.acc.MemberLimits {
			continue
		}
		if byAcct == nil {
			byAcct = map[string][]string{}
		}
		byAcct[st.acc.ID] = append(byAcct[st.acc.ID], op.debit.MemberID)
	}
	return b.readMembers(ctx, tx, byAcct)
}

func (b *book) readMembers(ctx context.Context, tx Tx, byAcct map[string][]string) error {
	if b.members == nil {
		b.members = map[string]*MemberSpend{}
	}
	ids := make([]string, 0, len(byAcct))
	for id := range byAcct {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		ms, err := tx.MemberSpends(ctx, id, uniqueSorted(byAcct[id]))
		if err != nil {
			return err
		}
		for i := range ms {
			m := ms[i]
			b.members[m.MemberID] = &m
		}
	}
	return nil
}

// memberSpend is the counter of a limited member of st's account, nil when the debit is not
// attributed to one. A lock-free decision (members not read) answers errNeedsLock, which sends
// the batch to the locking path.
func (b *book) memberSpend(st *acctState, memberID string) (*MemberSpend, error) {
	if memberID == "" || !st.acc.MemberLimits {
		return nil, nil
	}
	if b.members == nil {
		return nil, errNeedsLock
	}
	ms := b.members[memberID]
	if ms == nil || ms.AccountID != st.acc.ID || ms.MonthlyLimit == nil {
		return nil, nil
	}
	start, _ := SpendPeriod(st.acc, b.now)
	if ms.PeriodStart == nil || !ms.PeriodStart.Equal(start) {
		ms.PeriodStart, ms.PeriodSpent = &start, 0
	}
	return ms, nil
}

// enforceMember refuses a charge that would take the member past their limit.
func (b *book) enforceMember(st *acctState, ms *MemberSpend, amount Credits) error {
	if ms.PeriodSpent+amount <= *ms.MonthlyLimit {
		return nil
	}
	_, end := SpendPeriod(st.acc, b.now)
	return &Error{Code: EMemberLimit,
		Message: fmt.Sprintf("This would pass this member's monthly limit of %s credits (%s spent).", *ms.MonthlyLimit, ms.PeriodSpent),
		Details: map[string]any{"member": ms.MemberID, "limit": ms.MonthlyLimit.String(), "spent": ms.PeriodSpent.String(),
			"required": amount.String(), "resets_at": end.Format(time.RFC3339)}}
}

// memberCharge counts a charge in the member's counter (nil: not a limited member).
func (b *book) memberCharge(st *acctState, ms *MemberSpend, amount Credits) {
	if ms == nil {
		return
	}
	ms.PeriodSpent = addTotal(ms.PeriodSpent, amount)
	st.dirty = true
	if b.memberDirty == nil {
		b.memberDirty = map[string]bool{}
	}
	b.memberDirty[ms.MemberID] = true
}

// writeMembers writes the counters the batch changed.
func (b *book) writeMembers(ctx context.Context, tx Tx) error {
	if len(b.memberDirty) == 0 {
		return nil
	}
	out := make([]MemberSpend, 0, len(b.memberDirty))
	for id := range b.memberDirty {
		out = append(out, *b.members[id])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].MemberID < out[j].MemberID })
	return tx.SetMemberSpends(ctx, out)
}
