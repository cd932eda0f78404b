package billing

import (
	"context"
	"errors"
	"sort"
	"time"
)

// book is the in-memory state of the accounts locked by one transaction. Rules are applied
// here, in Go; the writes it collects are flushed with one statement per table.
type book struct {
	now      time.Time
	accounts map[string]*acctState
	w        writes
	// members holds the counters of limited members, read under the accounts' locks
	// (loadMembers); nil in a lock-free decision, which then cannot decide their debits.
	members     map[string]*MemberSpend
	memberDirty map[string]bool
	memberHits  []MemberSpend // limited members refused by this batch (notifyMemberHits)
}

type acctState struct {
	acc        Account
	startAvail Credits     // available once loaded (after the expiry sweep)
	grants     []*Grant    // every grant with remaining > 0, in consumption order
	rules      []AlertRule // enabled alert rules, with their firing state
	dirty      bool
	// flips counts this transaction's firing changes of debit-path rules: each rewrites the
	// account's copy of its rules (debit_rules, migration 0033), which bumps its version.
	flips int64
}

type writes struct {
	newGrants    []Grant
	newHolds     []Hold
	debits       []Debit
	usage        []UsageEvent
	grantChanges map[string]*Grant
	holdChanges  map[string]*Hold
	entries      []Entry
	jobs         []Job
}

// loadBook locks the accounts (id order) and their live grants, then sweeps expired grants so
// that nothing decided in this transaction sees expired credits.
func loadBook(ctx context.Context, tx Tx, now time.Time, ids []string) (*book, error) {
	accs, grants, err := tx.LockAccounts(ctx, ids) // it sorts them
	if err != nil {
		return nil, err
	}
	b, err := newBook(ctx, tx, now, accs, grants)
	if err != nil || len(accs) == 0 {
		return b, err
	}
	// Read under the accounts' locks: a rule change locks its account first (TouchAccount).
	rules, err := tx.AlertRulesFor(ctx, ids)
	if err != nil {
		return nil, err
	}
	b.setRules(rules)
	return b, nil
}

// newBook builds the book of accounts and their live grants (read under lock, or cached when
// tx is nil), and sweeps expired grants. Without tx, a sweep that would need to shrink holds
// fails with errNeedsLock.
func newBook(ctx context.Context, tx Tx, now time.Time, accs []Account, grants []Grant) (*book, error) {
	b := &book{now: now, accounts: make(map[string]*acctState, len(accs)),
		w: writes{grantChanges: map[string]*Grant{}, holdChanges: map[string]*Hold{}}}
	for _, a := range accs {
		b.accounts[a.ID] = &acctState{acc: a}
	}
	if len(accs) == 0 {
		return b, nil
	}
	for i := range grants {
		if st := b.accounts[grants[i].AccountID]; st != nil {
			g := grants[i]
			st.grants = append(st.grants, &g)
		}
	}
	for _, st := range b.accounts {
		sortGrants(st.grants)
		b.sweep(st)
		if err := b.coverHolds(ctx, tx, st, "reserved credits expired"); err != nil {
			return nil, err
		}
		st.startAvail = b.available(st)
	}
	return b, nil
}

// errNeedsLock stops a lock-free (cached) decision that needs to read more of the database.
var errNeedsLock = errors.New("billing: this batch needs the locking path")

// coverHolds keeps available >= -overdraft_limit after credits left the account without
// being spent (expiry, revoke): active holds are reduced, newest first, by the uncovered
// amount, each with a release entry. A later commit is then capped accordingly.
func (b *book) coverHolds(ctx context.Context, tx Tx, st *acctState, reason string) error {
	deficit := -st.acc.OverdraftLimit - b.available(st)
	if deficit <= 0 || st.acc.Reserved == 0 {
		return nil
	}
	if tx == nil {
		return errNeedsLock
	}
	holds, err := tx.ActiveHolds(ctx, st.acc.ID)
	if err != nil {
		return err
	}
	for i := range holds {
		if deficit <= 0 {
			break
		}
		h := holds[i]
		x := min(deficit, h.Amount)
		deficit -= x
		st.acc.Reserved -= x
		if x == h.Amount {
			h.Status = HoldReleased
			t := b.now
			h.ClosedAt = &t
		} else {
			h.Amount -= x
		}
		b.w.holdChanges[h.ID] = &h
		b.entry(st, Entry{HoldID: &h.ID, Kind: KindRelease, Amount: x, Actor: "system", Reason: reason})
	}
	return nil
}

func uniqueSorted(ids []string) []string {
	out := append([]string(nil), ids...)
	sort.Strings(out)
	n := 0
	for i, id := range out {
		if i == 0 || id != out[n-1] {
			out[n] = id
			n++
		}
	}
	return out[:n]
}

func sortGrants(gs []*Grant) {
	sort.SliceStable(gs, func(i, j int) bool { return gs[i].consumedBefore(gs[j]) })
}

func (b *book) account(id string) (*acctState, error) {
	st := b.accounts[id]
	if st == nil {
		return nil, Errorf(ENotFound, "No account %s.", id)
	}
	return st, nil
}

// sweep writes an expire entry for each grant past its expiry (breakage).
func (b *book) sweep(st *acctState) {
	for _, g := range st.grants {
		if g.Remaining > 0 && g.expiredAt(b.now) {
			amt := g.Remaining
			g.Remaining = 0
			t := b.now
			g.ExpiredAt = &t
			b.touchGrant(g)
			st.acc.Balance -= amt
			b.entry(st, Entry{GrantID: &g.ID, Kind: KindExpire, Amount: -amt, Actor: "system", Reason: "grant expired"})
		}
	}
}

// pending is the part of the cached balance not usable yet (grants before their effective time).
func (st *acctState) pending(now time.Time) Credits {
	var p Credits
	for _, g := range st.grants {
		if g.Remaining > 0 && g.EffectiveAt.After(now) {
			p += g.Remaining
		}
	}
	return p
}

// usableBalance is what the account holds and may spend now (may be negative in overdraft).
func (b *book) usableBalance(st *acctState) Credits { return st.acc.Balance - st.pending(b.now) }

// available is usable balance minus active holds.
func (b *book) available(st *acctState) Credits { return b.usableBalance(st) - st.acc.Reserved }

// touchGrant records a grant's change; its account is rewritten too (balance, version).
func (b *book) touchGrant(g *Grant) {
	b.w.grantChanges[g.ID] = g
	if st := b.accounts[g.AccountID]; st != nil {
		st.dirty = true
	}
}

// entry appends a ledger line stamped with the account's balance after it.
func (b *book) entry(st *acctState, e Entry) {
	e.AccountID = st.acc.ID
	e.BalanceAfter = st.acc.Balance
	e.CreatedAt = b.now
	st.dirty = true
	b.w.entries = append(b.w.entries, e)
}

// draw takes amount from usable grants in consumption order and the rest as overdraft debt,
// writing one entry per grant (the debit's allocations). The caller checked the limit.
func (b *book) draw(st *acctState, amount Credits, kind string, debitID, actor, reason string) (overdraft Credits) {
	left := amount
	for _, g := range st.grants {
		if left == 0 {
			break
		}
		if !g.usable(b.now) {
			continue
		}
		take := min(left, g.Remaining)
		g.Remaining -= take
		left -= take
		st.acc.Balance -= take
		b.touchGrant(g)
		b.entry(st, Entry{GrantID: &g.ID, DebitID: optional(debitID), Kind: kind, Amount: -take, Actor: actor, Reason: reason})
	}
	if left > 0 {
		st.acc.Debt += left
		st.acc.Balance -= left
		b.entry(st, Entry{DebitID: optional(debitID), Kind: kind, Amount: -left, Actor: actor, Reason: reason + " (overdraft)"})
	}
	return left
}

// spend adds a charge to the account's spend this period (SpendPeriod).
func (b *book) spend(st *acctState, amount Credits) {
	start, _ := SpendPeriod(st.acc, b.now)
	if st.acc.PeriodStart == nil || !st.acc.PeriodStart.Equal(start) {
		st.acc.PeriodStart, st.acc.PeriodSpent = &start, 0
	}
	st.acc.PeriodSpent = addTotal(st.acc.PeriodSpent, amount) // saturates: never wraps
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// addGrant credits a new grant and repays any overdraft debt from it first.
func (b *book) addGrant(st *acctState, g Grant) {
	gp := &g
	st.acc.Balance += g.Amount
	switch g.Source {
	case "purchase", "auto_recharge", "subscription":
		st.acc.LastTopup = g.Amount
	}
	b.entry(st, Entry{GrantID: &gp.ID, Kind: KindGrant, Amount: g.Amount, Actor: g.Actor, Reason: g.Reason})
	if st.acc.Debt > 0 && g.usable(b.now) {
		x := min(st.acc.Debt, g.Remaining)
		gp.Remaining -= x
		st.acc.Debt -= x
		// Two lines: the grant gives x, the debt takes x; the balance does not move.
		st.acc.Balance -= x
		b.entry(st, Entry{GrantID: &gp.ID, Kind: KindAdjust, Amount: -x, Actor: g.Actor, Reason: "overdraft repaid"})
		st.acc.Balance += x
		b.entry(st, Entry{Kind: KindAdjust, Amount: x, Actor: g.Actor, Reason: "overdraft repaid"})
	}
	b.w.newGrants = append(b.w.newGrants, *gp)
	st.grants = append(st.grants, gp)
	sortGrants(st.grants)
}

// AccountChange is an account's available credits before and after a transaction's debits.
type AccountChange struct {
	AccountID       string
	Account         Account // cached state after the transaction
	AvailableBefore Credits
	AvailableAfter  Credits
}

// DebitHook runs inside a debit transaction once its rows are written (e.g. to enqueue an
// auto-recharge job in the same transaction). An error rolls the whole transaction back.
type DebitHook func(ctx context.Context, tx Tx, changes []AccountChange) error

// DebitHookQuiet reports, without the database, that its hook would do nothing for these
// changes; a batch is committed without locks only when every hook is quiet.
type DebitHookQuiet func(changes []AccountChange) bool

// OnDebit registers a hook run after every debit batch and commit; quiet may be nil (the
// hook then always runs, inside a locked transaction).
func (s *Service) OnDebit(h DebitHook, quiet DebitHookQuiet) {
	s.debitHooks = append(s.debitHooks, h)
	s.debitQuiet = append(s.debitQuiet, quiet)
}

// accountChanges lists the accounts the batch changed, by id.
func (b *book) accountChanges() []AccountChange {
	var cs []AccountChange
	for _, st := range b.accounts {
		if st.dirty {
			cs = append(cs, AccountChange{AccountID: st.acc.ID, Account: st.acc, AvailableBefore: st.startAvail, AvailableAfter: b.available(st)})
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].AccountID < cs[j].AccountID })
	return cs
}

func (s *Service) debitHooksQuiet(b *book) bool {
	if len(s.debitHooks) == 0 {
		return true
	}
	cs := b.accountChanges()
	if len(cs) == 0 {
		return true
	}
	for _, q := range s.debitQuiet {
		if q == nil || !q(cs) {
			return false
		}
	}
	return true
}

func (s *Service) runDebitHooks(ctx context.Context, tx Tx, b *book) error {
	if len(s.debitHooks) == 0 {
		return nil
	}
	cs := b.accountChanges()
	if len(cs) == 0 {
		return nil
	}
	for _, h := range s.debitHooks {
		if err := h(ctx, tx, cs); err != nil {
			return err
		}
	}
	return nil
}

// flush writes everything collected, one statement per table, in foreign-key order.
func (b *book) flush(ctx context.Context, tx Tx) error {
	w := &b.w
	lw := b.ledgerWrites(false) // first: it sets the new grants' final remaining
	if err := tx.InsertGrants(ctx, w.newGrants); err != nil {
		return err
	}
	if err := tx.InsertHolds(ctx, w.newHolds); err != nil {
		return err
	}
	if len(w.holdChanges) > 0 {
		var hcs []Hold
		for _, h := range w.holdChanges {
			hcs = append(hcs, *h)
		}
		sort.Slice(hcs, func(i, j int) bool { return hcs[i].ID < hcs[j].ID })
		if err := tx.SetHolds(ctx, hcs); err != nil {
			return err
		}
	}
	if err := tx.WriteLedger(ctx, lw); err != nil {
		return err
	}
	if err := b.writeMembers(ctx, tx); err != nil {
		return err
	}
	for _, j := range w.jobs {
		if err := tx.Enqueue(ctx, j); err != nil {
			return err
		}
	}
	return b.writeAlerts(ctx, tx)
}

// onlyLedgerWrites is true when everything collected fits one WriteLedger statement (no new
// grants or holds, no hold changes, no jobs): what the lock-free path can commit.
func (b *book) onlyLedgerWrites() bool {
	w := &b.w
	return len(w.newGrants) == 0 && len(w.newHolds) == 0 && len(w.holdChanges) == 0 && len(w.jobs) == 0
}

// ledgerWrites gathers the debits, usage, grant changes, entries and account states. With
// versioned, every account of the book gets a state (changed or not: a refusal was decided
// against it too) carrying the version it was decided against; otherwise only changed
// accounts, with -1 (decided under lock). New grants get their final remaining here.
func (b *book) ledgerWrites(versioned bool) LedgerWrites {
	w := &b.w
	newGrant := map[string]bool{}
	for i := range w.newGrants {
		newGrant[w.newGrants[i].ID] = true
		if g := w.grantChanges[w.newGrants[i].ID]; g != nil {
			w.newGrants[i].Remaining, w.newGrants[i].ExpiredAt = g.Remaining, g.ExpiredAt
		}
	}
	var gcs []GrantChange
	for id, g := range w.grantChanges {
		if !newGrant[id] {
			gcs = append(gcs, GrantChange{ID: id, Remaining: g.Remaining, ExpiredAt: g.ExpiredAt})
		}
	}
	sort.Slice(gcs, func(i, j int) bool { return gcs[i].ID < gcs[j].ID })
	var states []LedgerState
	for _, st := range b.accounts {
		if st.dirty || versioned {
			a := st.acc
			ver := int64(-1)
			if versioned {
				ver = a.Version
			}
			states = append(states, LedgerState{AccountID: a.ID, Balance: a.Balance, Reserved: a.Reserved, Debt: a.Debt,
				PeriodStart: a.PeriodStart, PeriodSpent: a.PeriodSpent, LastTopup: a.LastTopup, Version: ver})
		}
	}
	sort.Slice(states, func(i, j int) bool { return states[i].AccountID < states[j].AccountID })
	return LedgerWrites{At: b.now, Debits: w.debits, Usage: w.usage, Grants: gcs, Entries: w.entries, States: states}
}
