package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
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
//
// A member's active holds count against their limit as the account's reserved counts against
// its available credits: a debit or a reservation needs spent + held + amount <= limit, where
// held is summed from the member's active holds when the counter is read under the lock
// (holds_member_active_idx) and kept in step by the batch. Committing a hold moves its charge
// from held to spent: up to the hold's amount always (it fitted when it was reserved), above
// it only as far as the limit still has room (CommitHold caps it, as available caps it).

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
		// An account that reserves nothing has no active holds: no member's need summing.
		held := true
		if st := b.accounts[id]; st != nil && st.acc.Reserved == 0 {
			held = false
		}
		ms, err := tx.MemberSpends(ctx, id, uniqueSorted(byAcct[id]), held)
		if err != nil {
			return err
		}
		for i := range ms {
			// A counter already in the book may carry this batch's charges: it stays.
			if m := ms[i]; b.members[m.MemberID] == nil {
				// Holds this book closed (expired while loading it, or being committed) are
				// still active in the database: their amounts stop counting now.
				for _, h := range b.w.holdChanges {
					if h.AccountID == m.AccountID && h.MemberID == m.MemberID && h.Status != HoldActive {
						m.Held = max(m.Held-h.Amount, 0)
					}
				}
				if err := b.syncMemberPeriod(ctx, tx, &m); err != nil {
					return err
				}
				b.members[m.MemberID] = &m
			}
		}
	}
	return nil
}

// syncMemberPeriod moves a limited member's counter to the spend period containing now
// (SpendPeriod of the account read under its lock). At the natural rollover (the old period
// is a period of the account's current calendar and the new one starts at its end or later)
// the counter starts again at 0. When the period moved otherwise (a subscription started,
// ended or changed its period, so that the new period overlaps the old one or starts before
// it), the counter is recounted from the member's usage since the new start. A period
// before the counter's own (an instance whose clock is behind) never moves it backwards: the
// counter stays as it is. A counter changed here is written with the batch.
func (b *book) syncMemberPeriod(ctx context.Context, tx Tx, ms *MemberSpend) error {
	st := b.accounts[ms.AccountID]
	if st == nil || ms.MonthlyLimit == nil {
		return nil
	}
	start, _ := SpendPeriod(st.acc, b.now)
	if ms.PeriodStart != nil && ms.PeriodStart.Equal(start) {
		return nil
	}
	if ms.PeriodStart != nil {
		os, oe := SpendPeriod(st.acc, *ms.PeriodStart)
		switch {
		case os.Equal(*ms.PeriodStart) && !start.Before(oe):
			ms.PeriodStart, ms.PeriodSpent = &start, 0
			b.markMember(st, ms)
			return nil
		case os.Equal(*ms.PeriodStart) && start.Before(*ms.PeriodStart):
			return nil
		}
	}
	spent, err := tx.MemberUsageSince(ctx, ms.AccountID, ms.MemberID, start)
	if err != nil {
		return err
	}
	ms.PeriodStart, ms.PeriodSpent = &start, spent
	b.markMember(st, ms)
	return nil
}

// markMember has the batch write the member's counter.
func (b *book) markMember(st *acctState, ms *MemberSpend) {
	st.dirty = true
	if b.memberDirty == nil {
		b.memberDirty = map[string]bool{}
	}
	b.memberDirty[ms.MemberID] = true
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
	return ms, nil // its period was brought up to date when it was read (syncMemberPeriod)
}

// enforceMember refuses a charge or a reservation that would take the member past their
// limit: what they spent this period plus what their active holds reserve (as the account's
// reserved counts against its available credits) plus amount.
func (b *book) enforceMember(st *acctState, ms *MemberSpend, amount Credits) error {
	if addTotal(addTotal(ms.PeriodSpent, ms.Held), amount) <= *ms.MonthlyLimit {
		return nil
	}
	_, end := SpendPeriod(st.acc, b.now)
	msg := fmt.Sprintf("This would pass this member's monthly limit of %s credits (%s spent).", *ms.MonthlyLimit, ms.PeriodSpent)
	if ms.Held > 0 {
		msg = fmt.Sprintf("This would pass this member's monthly limit of %s credits (%s spent, %s reserved).", *ms.MonthlyLimit, ms.PeriodSpent, ms.Held)
	}
	return &Error{Code: EMemberLimit, Message: msg,
		Details: map[string]any{"member": ms.MemberID, "limit": ms.MonthlyLimit.String(), "spent": ms.PeriodSpent.String(),
			"required": amount.String(), "resets_at": end.Format(time.RFC3339)}}
}

// memberRoom is what the member may still charge or reserve this period (0 when at or past
// their limit).
func memberRoom(ms *MemberSpend) Credits {
	return max(*ms.MonthlyLimit-addTotal(ms.PeriodSpent, ms.Held), 0)
}

// memberCharge counts a charge in the member's counter (nil: not a limited member).
func (b *book) memberCharge(st *acctState, ms *MemberSpend, amount Credits) {
	if ms == nil {
		return
	}
	ms.PeriodSpent = addTotal(ms.PeriodSpent, amount)
	b.markMember(st, ms)
}

// writeMembers writes the counters the batch changed, then tells whoever must know about
// members the batch refused at their limit.
func (b *book) writeMembers(ctx context.Context, tx Tx) error {
	if err := b.notifyMemberHits(ctx, tx); err != nil {
		return err
	}
	if len(b.memberDirty) == 0 {
		return nil
	}
	out := make([]MemberSpend, 0, len(b.memberDirty))
	for id := range b.memberDirty {
		out = append(out, *b.members[id])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].MemberID < out[j].MemberID })
	if err := tx.SetMemberSpends(ctx, out); err != nil {
		return err
	}
	return b.memberAlerts(ctx, tx, out)
}

// memberAlerts fires and resolves the member_spend_percent rules of the members whose
// counters the batch changed (the account's rules were read under its lock).
func (b *book) memberAlerts(ctx context.Context, tx Tx, changed []MemberSpend) error {
	for _, ms := range changed {
		st := b.accounts[ms.AccountID]
		if st == nil || ms.MonthlyLimit == nil {
			continue
		}
		for i := range st.rules {
			r := &st.rules[i]
			if !r.Enabled || r.Kind != AlertMemberSpendPercent || r.Member() != ms.MemberID {
				continue
			}
			breached := *ms.MonthlyLimit > 0 && int64(ms.PeriodSpent)*100 >= int64(*ms.MonthlyLimit)*r.Threshold
			if breached == r.Firing {
				continue
			}
			crossings, ok, err := tx.SetAlertFiring(ctx, r.ID, breached, b.now)
			if err != nil {
				return err
			}
			r.Firing = breached
			if !ok {
				continue
			}
			r.Crossings = crossings
			limit := *ms.MonthlyLimit
			ev := AlertEvent{Type: AlertResolved, Rule: *r, Crossing: crossings, At: b.now, Available: b.available(st),
				Spent: ms.PeriodSpent, SpendLimit: &limit, LastTopup: st.acc.LastTopup}
			if breached {
				ev.Type = AlertFired
			}
			if err := deliverAlert(ctx, tx, ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// Notification and job kinds of member limits.
const (
	NoticeMemberLimit = "member_limit.reached"
	JobMemberLimit    = "member_limit.mail"
	MailMemberLimit   = "member_limit"
)

type memberLimitJob struct {
	Key     string  `json:"key"`
	Account string  `json:"account"`
	Member  string  `json:"member"`
	Limit   Credits `json:"limit"`
	Spent   Credits `json:"spent"`
}

// memberHitKey names one member reaching one limit in one period: they are told once.
func memberHitKey(ms MemberSpend) string {
	start := ""
	if ms.PeriodStart != nil {
		start = ms.PeriodStart.UTC().Format("2006-01-02T15:04:05")
	}
	return "member-limit:" + ms.MemberID + ":" + start + ":" + ms.MonthlyLimit.String()
}

// notifyMemberHits writes, once per member, limit and period, an in-app notice on the account
// (the member and the owners see it) and a job that mails the member and the owners.
func (b *book) notifyMemberHits(ctx context.Context, tx Tx) error {
	seen := map[string]bool{}
	for _, ms := range b.memberHits {
		k := memberHitKey(ms)
		if seen[k] {
			continue
		}
		seen[k] = true
		n := Notification{AccountID: ms.AccountID, Kind: NoticeMemberLimit, Level: "warning", Link: "/team", Key: k, CreatedAt: b.now,
			Message: fmt.Sprintf("A member reached their monthly limit of %s credits (%s spent); their usage is refused until the period ends or an owner or admin raises it.",
				*ms.MonthlyLimit, ms.PeriodSpent)}
		if err := tx.InsertNotification(ctx, n); err != nil {
			return err
		}
		j := NewJob(JobMemberLimit, memberLimitJob{Key: k, Account: ms.AccountID, Member: ms.MemberID, Limit: *ms.MonthlyLimit, Spent: ms.PeriodSpent}, b.now, k+":mail")
		if err := tx.Enqueue(ctx, j); err != nil {
			return err
		}
	}
	return nil
}

// handleMemberLimitMail mails the member and the account's owners, once per event.
func (s *Service) handleMemberLimitMail(ctx context.Context, payload json.RawMessage) error {
	var p memberLimitJob
	if err := json.Unmarshal(payload, &p); err != nil {
		return fmt.Errorf("member limit payload: %w", err)
	}
	acc, err := s.store.AccountByID(ctx, p.Account)
	if ErrorCode(err) == ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	ms, err := s.store.AccountMembers(ctx, acc.ID)
	if err != nil {
		return err
	}
	refs, err := s.store.MemberRefs(ctx, acc.ID)
	if err != nil {
		return err
	}
	who := "A member"
	var to []string
	for _, r := range refs {
		if r.ID == p.Member {
			who = r.Email
			to = append(to, r.Email)
		}
	}
	for _, m := range ms {
		if m.Role == RoleOwner && !slices.Contains(to, m.Email) {
			to = append(to, m.Email)
		}
	}
	now := s.Now()
	base := strings.TrimRight(s.alertLinks().base, "/")
	return s.store.InTx(ctx, func(tx Tx) error {
		ok, err := tx.ClaimAlertDelivery(ctx, p.Key+":mail", now)
		if err != nil || !ok {
			return err
		}
		for _, addr := range to {
			c := mailContent{Paras: []string{fmt.Sprintf("%s reached their monthly limit of %s credits in %s (%s spent). Their usage is refused until the period ends or an owner or admin raises the limit.",
				who, p.Limit, acc.Name, p.Spent)},
				Actions: []mailLink{{"Open the team page", base + "/team"}}}
			m := c.mail(MailMemberLimit, addr, "Monthly limit reached in "+acc.Name)
			m.CreatedAt = now
			if err := s.queueMail(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
}
