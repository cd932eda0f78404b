package billing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"time"
)

// DebitInput is one idempotent charge.
type DebitInput struct {
	AccountID      string
	Amount         Credits
	IdempotencyKey string
	// RequestHash identifies the request behind the key (the API hashes its body); when
	// empty, the amount and reason stand for it.
	RequestHash string
	Actor       string
	Reason      string
	// Enforce checks the account's status and spend limit under the lock (API usage).
	Enforce bool
	// Usage, when set, is recorded with the debit in the same transaction.
	Usage *UsageEvent
	// PlanKey, when set, is the plan Amount was priced for: if the account is on another plan
	// when the debit is decided, it is refused with errPlanChanged (and priced again).
	PlanKey string
	// MemberID is the member the debit is attributed to ("" for none): with Enforce, a
	// member's monthly limit refuses it (member_limit_reached).
	MemberID string
}

func (in *DebitInput) normalize() error {
	var v Validation
	if in.AccountID == "" {
		v.Add("account", "Name the account.")
	}
	checkCredits(&v, "credits", in.Amount, 0)
	if msg := keyProblem(in.IdempotencyKey); msg != "" {
		v.Add("idempotency_key", "%s", msg)
	}
	if in.RequestHash == "" {
		h := sha256.Sum256([]byte(fmt.Sprintf("debit|%d|%s", in.Amount, in.Reason)))
		in.RequestHash = hex.EncodeToString(h[:16])
	}
	in.Actor = actorOr(in.Actor)
	return v.Err()
}

// DebitOutcome is the answer to one debit of a batch: the debit (new or replayed) or an error.
type DebitOutcome struct {
	Debit    Debit
	Replayed bool
	Err      error
	// Warnings: low_balance, spend_limit_soft_exceeded, overdraft_used, capped_at_reservation.
	Warnings []string
	// Usage is the recorded usage event (nil for a replay: read it by debit id).
	Usage *UsageEvent
}

// Debit charges one account. Errors: invalid_request, not_found (account),
// insufficient_credits (details required, available), idempotency_conflict.
func (s *Service) Debit(ctx context.Context, in DebitInput) (DebitOutcome, error) {
	outs, err := s.DebitBatch(ctx, []DebitInput{in})
	if err != nil {
		return DebitOutcome{}, err
	}
	return outs[0], outs[0].Err
}

// DebitBatch applies many debits, over any accounts, in one transaction: accounts are locked
// in id order, each debit is decided on its own (a refused one does not refuse the others),
// and the rows are written with one statement per table. The error is for the transaction
// as a whole; per-debit errors are in the outcomes.
func (s *Service) DebitBatch(ctx context.Context, ins []DebitInput) ([]DebitOutcome, error) {
	if gc := s.gc.Load(); gc != nil {
		return s.viaGroupCommit(ctx, gc, ins)
	}
	return s.debitBatchTx(ctx, ins)
}

// viaGroupCommit validates, then hands the debits to the batcher's shards.
func (s *Service) viaGroupCommit(ctx context.Context, gc *GroupCommit, ins []DebitInput) ([]DebitOutcome, error) {
	outs := make([]DebitOutcome, len(ins))
	var valid []DebitInput
	var at []int
	for i := range ins {
		if err := ins[i].normalize(); err != nil {
			outs[i].Err = err
			continue
		}
		valid, at = append(valid, ins[i]), append(at, i)
	}
	if len(valid) == 0 {
		return outs, nil
	}
	if len(valid) == 1 {
		out, err := gc.submit(ctx, valid[0])
		if err != nil {
			return nil, err
		}
		outs[at[0]] = out
		return outs, nil
	}
	res, err := gc.submitMany(ctx, valid)
	if err != nil {
		return nil, err
	}
	for j, o := range res {
		outs[at[j]] = o
	}
	return outs, nil
}

// debitBatchTx is DebitBatch in one transaction of its own.
func (s *Service) debitBatchTx(ctx context.Context, ins []DebitInput) ([]DebitOutcome, error) {
	ops := make([]ledgerOp, len(ins))
	for i := range ins {
		ops[i].debit = &ins[i]
	}
	res, err := s.applyOps(ctx, ops)
	if err != nil {
		return nil, err
	}
	outs := make([]DebitOutcome, len(ins))
	for i, r := range res {
		outs[i] = r.debit
	}
	return outs, nil
}

// ledgerOp is one debit or one reservation; many share a transaction.
type ledgerOp struct {
	debit   *DebitInput
	reserve *ReserveInput
}

// opResult answers one ledgerOp: debit.Err or holdErr carries its refusal.
type opResult struct {
	debit   DebitOutcome
	hold    HoldResult
	holdErr error
}

// applyOps decides every op and writes the outcome: lock-free against cached accounts when it
// can (planLockFree, commitLockFree), else under the accounts' locks (applyLocked). The error
// is the transaction's; each op's own refusal is in its result.
func (s *Service) applyOps(ctx context.Context, ops []ledgerOp) ([]opResult, error) {
	res, ids := normalizeOps(ops)
	if len(ids) == 0 {
		return res, nil
	}
	if s.ledgerLocked {
		return s.applyLocked(ctx, ops, ids, res)
	}
	free, locked := s.splitByCache(ops, res)
	if len(locked) > 0 && s.readUncached(ctx, ops, locked) {
		free, locked = s.splitByCache(ops, res)
	}
	if len(locked) == 0 {
		if p := s.planLockFree(ctx, ops, ids, res); p != nil && s.commitLockFree(ctx, p) {
			return p.res, nil
		}
		return s.applyLocked(ctx, ops, ids, res)
	}
	if len(free) == 0 {
		return s.applyLocked(ctx, ops, ids, res)
	}
	return s.applySplit(ctx, ops, res, free, locked)
}

// splitByCache decides per account, not per batch: the ops of accounts in the ledger cache
// with only debits go to free (positions in ops), the others (an account not cached, or one
// with a reservation) to locked. Every op of one account lands on the same side, so its ops
// are still decided in order against one state. Ops refused by normalizeOps are on neither.
func (s *Service) splitByCache(ops []ledgerOp, res []opResult) (free, locked []int) {
	acct := make([]string, len(ops))
	reserves := map[string]bool{}
	var ids []string
	for i, op := range ops {
		switch {
		case op.debit != nil && res[i].debit.Err == nil:
			acct[i] = op.debit.AccountID
			// A member's debit on an account with member limits is decided under its lock.
			if op.debit.MemberID != "" && s.ledger.memberLimited(acct[i]) {
				reserves[acct[i]] = true
			}
		case op.reserve != nil && res[i].holdErr == nil:
			acct[i] = op.reserve.AccountID
			reserves[acct[i]] = true
		default:
			continue
		}
		ids = append(ids, acct[i])
	}
	cached := s.ledger.cached(uniqueSorted(ids))
	for i, id := range acct {
		switch {
		case id == "":
		case cached[id] && !reserves[id]:
			free = append(free, i)
		default:
			locked = append(locked, i)
		}
	}
	return free, locked
}

// readUncached reads the accounts of the debits at positions at (those not cached) with
// their grants and rules, without locks, and caches them, so that the batch is decided
// lock-free: one read and one version-checked write instead of a transaction of seven
// round trips holding the accounts' locks. Accounts with a reservation in the batch are left
// to the locked path. It says whether it cached any.
func (s *Service) readUncached(ctx context.Context, ops []ledgerOp, at []int) bool {
	var ids []string
	reserves := map[string]bool{}
	for _, i := range at {
		if ops[i].reserve != nil {
			reserves[ops[i].reserve.AccountID] = true
		} else {
			ids = append(ids, ops[i].debit.AccountID)
		}
	}
	ids = slices.DeleteFunc(uniqueSorted(ids), func(id string) bool { return reserves[id] })
	if len(ids) == 0 {
		return false
	}
	mk := s.ledger.mark()
	accs, grants, rules, err := s.store.LedgerAccounts(ctx, ids)
	if err != nil || len(accs) == 0 {
		return false // the locked path reads them again, and reports what is wrong
	}
	s.ledgerStats.ColdReads.Add(1)
	return s.ledger.load(accs, grants, rules, true, mk) > 0
}

// applySplit commits the ops of cached accounts (free) lock-free while those of the others
// (locked) run under locks, side by side: the two sets of accounts are disjoint, and each
// side locks its rows in id order, so neither waits for the other. Free ops refused by the
// lock-free plan or statement are redone under locks afterwards. A failed locked
// transaction never fails ops that committed: its ops are retried one by one, and each op's
// error is in its result (so the batch as a whole never fails here).
func (s *Service) applySplit(ctx context.Context, ops []ledgerOp, res []opResult, free, locked []int) ([]opResult, error) {
	sub := func(at []int) ([]ledgerOp, []opResult, []string) {
		o, r := make([]ledgerOp, len(at)), make([]opResult, len(at))
		ids := make([]string, 0, len(at))
		for j, i := range at {
			o[j], r[j] = ops[i], res[i]
			ids = append(ids, opAccount(ops[i]))
		}
		return o, r, uniqueSorted(ids)
	}
	put := func(at []int, out []opResult) {
		for j, i := range at {
			res[i] = out[j]
		}
	}
	fops, fres, fids := sub(free)
	plan := s.planLockFree(ctx, fops, fids, fres)
	if plan == nil { // decided without the database: nothing to overlap
		s.applyLockedEach(ctx, ops, res, append(free, locked...))
		return res, nil
	}
	committed := make(chan bool, 1)
	go func() { committed <- s.commitLockFree(ctx, plan) }()
	s.applyLockedEach(ctx, ops, res, locked)
	if <-committed {
		put(free, plan.res)
	} else {
		s.applyLockedEach(ctx, ops, res, free)
	}
	return res, nil
}

// applyLockedEach runs the ops at positions at (ascending) under locks in one transaction,
// writing their results into res; when that transaction fails as a whole, each op is tried
// alone, so one op's database error fails only that op.
func (s *Service) applyLockedEach(ctx context.Context, ops []ledgerOp, res []opResult, at []int) {
	if len(at) == 0 {
		return
	}
	sort.Ints(at)
	run := func(at []int) error {
		o, r := make([]ledgerOp, len(at)), make([]opResult, len(at))
		ids := make([]string, 0, len(at))
		for j, i := range at {
			o[j], r[j] = ops[i], res[i]
			ids = append(ids, opAccount(ops[i]))
		}
		out, err := s.applyLocked(ctx, o, uniqueSorted(ids), r)
		if err != nil {
			return err
		}
		for j, i := range at {
			res[i] = out[j]
		}
		return nil
	}
	if err := run(at); err == nil || len(at) == 1 {
		if err != nil {
			setOpErr(&res[at[0]], err)
		}
		return
	}
	for _, i := range at {
		if err := run([]int{i}); err != nil {
			setOpErr(&res[i], err)
		}
	}
}

func opAccount(op ledgerOp) string {
	if op.debit != nil {
		return op.debit.AccountID
	}
	return op.reserve.AccountID
}

func setOpErr(r *opResult, err error) {
	r.debit = DebitOutcome{Err: err}
	r.holdErr = err
}

// normalizeOps checks each op's input (a bad one is answered in res) and lists the accounts
// the others touch, sorted and unique.
func normalizeOps(ops []ledgerOp) (res []opResult, ids []string) {
	res = make([]opResult, len(ops))
	for i, op := range ops {
		switch {
		case op.debit != nil:
			if err := op.debit.normalize(); err != nil {
				res[i].debit.Err = err
				continue
			}
			ids = append(ids, op.debit.AccountID)
		case op.reserve != nil:
			if err := op.reserve.normalize(); err != nil {
				res[i].holdErr = err
				continue
			}
			ids = append(ids, op.reserve.AccountID)
		}
	}
	return res, uniqueSorted(ids)
}

// applyLocked locks the accounts (in id order), reads them with their live grants and the
// batch's idempotency keys, decides every op in order, and writes the outcome with a fixed
// number of statements.
func (s *Service) applyLocked(ctx context.Context, ops []ledgerOp, ids []string, res []opResult) ([]opResult, error) {
	var keys []AccountKey
	for i, op := range ops {
		if op.debit != nil && res[i].debit.Err == nil {
			keys = append(keys, AccountKey{op.debit.AccountID, op.debit.IdempotencyKey})
		}
	}
	var locked *book
	mk := s.ledger.mark()
	err := s.store.InTx(ctx, func(tx Tx) error {
		b, err := loadBook(ctx, tx, s.Now(), ids)
		if err != nil {
			return err
		}
		locked = b
		if err := b.loadMembers(ctx, tx, ops, res); err != nil {
			return err
		}
		var prev []Debit
		if len(keys) > 0 {
			if prev, err = tx.DebitsByKeys(ctx, keys); err != nil {
				return err
			}
		}
		seen := make(map[AccountKey]*Debit, len(prev)+len(ops))
		for i := range prev {
			seen[AccountKey{prev[i].AccountID, prev[i].IdempotencyKey}] = &prev[i]
		}
		newHolds := map[AccountKey]*Hold{}
		for i, op := range ops {
			switch {
			case op.debit != nil && res[i].debit.Err == nil:
				res[i].debit = b.debit(*op.debit, seen)
			case op.reserve != nil && res[i].holdErr == nil:
				if res[i].hold, res[i].holdErr, err = s.reserveOp(ctx, tx, b, *op.reserve, newHolds); err != nil {
					return err
				}
			}
		}
		if err := b.flush(ctx, tx); err != nil {
			return err
		}
		return s.runDebitHooks(ctx, tx, b)
	})
	if err != nil {
		return nil, err
	}
	s.ledgerStats.Locked.Add(1)
	if !s.ledgerLocked {
		s.ledger.put(locked, false, mk)
	}
	s.snapshotsFrom(locked)
	return res, nil
}

// lockFreePlan is a batch of debits decided against cached accounts, not yet written.
type lockFreePlan struct {
	ids    []string
	book   *book
	res    []opResult
	writes LedgerWrites
}

// planLockFree decides a batch of plain debits against cached accounts (see ledgerCache), or
// returns nil when the batch needs the locking path: an account not cached, holds, a refused
// debit, or anything to write besides debits, usage, entries and account states.
//
// (Deciding the next batch on top of this one while it is written does not pay: the two
// statements travel on different connections, the second often reaches the rows first, finds
// the old version and falls back; measured at 6-40% lock-free. Sending the second only once
// the first has committed keeps it lock-free, but the batch decided early is smaller, 13.5
// debits instead of 15.5, which cancels the overlap: measured equal, within the noise.)
func (s *Service) planLockFree(ctx context.Context, ops []ledgerOp, ids []string, pre []opResult) *lockFreePlan {
	if s.ledgerLocked {
		return nil
	}
	for _, op := range ops {
		if op.debit == nil {
			return nil
		}
	}
	accs, grants, rules, missing := s.ledger.get(ids)
	if len(missing) > 0 {
		return nil
	}
	b, err := newBook(ctx, nil, s.Now(), accs, grants)
	if err != nil {
		return nil
	}
	b.setRules(rules)
	res := append([]opResult(nil), pre...)
	seen := make(map[AccountKey]*Debit, len(ops))
	refused := false
	for i, op := range ops {
		if res[i].debit.Err == nil {
			res[i].debit = b.debit(*op.debit, seen)
			refused = refused || res[i].debit.Err != nil
		}
	}
	// A refusal writes nothing, so no unique index would notice that its key was already used:
	// a retry of a debit that emptied the account must replay it, not be refused. Batches with
	// a refusal take the locking path, which looks the keys up first.
	if refused || !b.onlyLedgerWrites() || !s.debitHooksQuiet(b) {
		s.ledgerStats.Fallbacks.Add(1)
		return nil
	}
	// A crossing (once per alert, rare) is written with its debit under locks.
	if b.alertsPending() {
		s.ledgerStats.AlertFallbacks.Add(1)
		return nil
	}
	return &lockFreePlan{ids: ids, book: b, res: res, writes: b.ledgerWrites(true)}
}

// commitLockFree writes a plan with one statement and no explicit transaction. false means
// nothing was written (an account changed since, or an idempotency key was used before this
// batch: the unique index refuses it) or the outcome is unknown (the connection failed): the
// caller then decides again under locks, which replays whatever did commit.
func (s *Service) commitLockFree(ctx context.Context, p *lockFreePlan) bool {
	mk := s.ledger.mark()
	if err := s.store.CommitLedger(ctx, p.writes); err != nil {
		s.ledger.drop(p.ids)
		s.ledgerStats.Fallbacks.Add(1)
		return false
	}
	s.ledger.put(p.book, true, mk) // routing finds these accounts there (ledgerRoute): no snapshot copy
	s.ledgerStats.LockFree.Add(1)
	return true
}

// debit decides one debit against the locked state.
func (b *book) debit(in DebitInput, seen map[AccountKey]*Debit) DebitOutcome {
	k := AccountKey{in.AccountID, in.IdempotencyKey}
	if d := seen[k]; d != nil {
		if d.RequestHash != in.RequestHash {
			return DebitOutcome{Err: Errorf(EIdempotencyConflict, "Idempotency key %q was already used with a different request.", in.IdempotencyKey)}
		}
		return DebitOutcome{Debit: *d, Replayed: true}
	}
	st, err := b.account(in.AccountID)
	if err != nil {
		return DebitOutcome{Err: err}
	}
	if in.PlanKey != "" && in.PlanKey != st.acc.PlanKey {
		return DebitOutcome{Err: errPlanChanged}
	}
	if in.Enforce {
		if err := b.enforce(st, in.Amount); err != nil {
			return DebitOutcome{Err: err}
		}
	}
	ms, err := b.memberSpend(st, in.MemberID)
	if err != nil {
		return DebitOutcome{Err: err}
	}
	if in.Enforce && ms != nil {
		if err := b.enforceMember(st, ms, in.Amount); err != nil {
			b.memberHits = append(b.memberHits, *ms)
			return DebitOutcome{Err: err}
		}
	}
	if avail := b.available(st); avail-in.Amount < -st.acc.OverdraftLimit {
		return DebitOutcome{Err: insufficient(in.Amount, avail)}
	}
	b.memberCharge(st, ms, in.Amount)
	d := Debit{ID: NewID("deb"), AccountID: in.AccountID, IdempotencyKey: in.IdempotencyKey, RequestHash: in.RequestHash,
		Amount: in.Amount, Requested: in.Amount, Actor: in.Actor, Reason: in.Reason, CreatedAt: b.now}
	out := b.charge(st, &d, in.Usage)
	seen[k] = &b.w.debits[len(b.w.debits)-1]
	return out
}

// charge draws a decided debit, counts it as spend, records its usage event and warnings.
func (b *book) charge(st *acctState, d *Debit, u *UsageEvent) DebitOutcome {
	d.Overdraft = b.draw(st, d.Amount, KindDebit, d.ID, d.Actor, d.Reason)
	d.BalanceAfter, d.AvailableAfter = b.usableBalance(st), b.available(st)
	b.spend(st, d.Amount)
	st.dirty = true // a zero charge still records its key
	b.w.debits = append(b.w.debits, *d)
	out := DebitOutcome{Debit: *d, Warnings: b.warnings(st, d)}
	if u != nil {
		ev := *u
		ev.ID, ev.AccountID, ev.DebitID, ev.Credits = NewID("use"), d.AccountID, d.ID, d.Amount
		ev.IdempotencyKey, ev.HoldID, ev.Warnings, ev.CreatedAt = d.IdempotencyKey, d.HoldID, out.Warnings, b.now
		b.w.usage = append(b.w.usage, ev)
		out.Usage = &ev
	}
	return out
}

// enforce refuses usage on a paused or suspended account, or beyond a hard spend limit.
func (b *book) enforce(st *acctState, amount Credits) error {
	switch st.acc.Status {
	case StatusPaused:
		return Errorf(EAccountPaused, "This account is paused by its owner; usage is refused until it is resumed.")
	case StatusSuspended:
		return SuspendedError(st.acc)
	}
	a := st.acc
	if a.SpendLimit != nil && a.SpendLimitMode == SpendHard && a.SpentThisPeriod(b.now)+amount > *a.SpendLimit {
		return &Error{Code: ESpendLimit,
			Message: fmt.Sprintf("This would pass the monthly spend limit of %s credits (%s spent).", *a.SpendLimit, a.SpentThisPeriod(b.now)),
			Details: map[string]any{"limit": a.SpendLimit.String(), "spent": a.SpentThisPeriod(b.now).String(), "required": amount.String(),
				"resets_at": a.PeriodResetsAt(b.now).Format(time.RFC3339)}}
	}
	return nil
}

// warnings are the facts about the account after a charge that the caller should know.
func (b *book) warnings(st *acctState, d *Debit) []string {
	w := []string{}
	a := st.acc
	if th := a.lowBalanceThreshold(); th > 0 && d.AvailableAfter < th {
		w = append(w, WarnLowBalance)
	}
	if a.SpendLimit != nil && a.SpendLimitMode == SpendSoft && a.SpentThisPeriod(b.now) > *a.SpendLimit {
		w = append(w, WarnSpendSoft)
	}
	if d.Overdraft > 0 || d.BalanceAfter < 0 {
		w = append(w, WarnOverdraft)
	}
	if d.Capped() {
		w = append(w, WarnCapped)
	}
	return w
}

// Warnings in usage responses.
const (
	WarnLowBalance = "low_balance"
	WarnSpendSoft  = "spend_limit_soft_exceeded"
	WarnOverdraft  = "overdraft_used"
	WarnCapped     = "capped_at_reservation"
)

func insufficient(required, available Credits) *Error {
	return &Error{Code: EInsufficient,
		Message: fmt.Sprintf("Not enough credits: this needs %s and %s are available.", required, max(available, 0)),
		Details: map[string]any{"required": required.String(), "available": available.String()}}
}
