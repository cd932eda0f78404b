package billing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Job kinds of the ledger.
const (
	JobHoldExpire  = "hold.expire"
	JobGrantExpire = "grant.expire"
)

// MaxHoldTTL bounds how long a reservation may stay open.
const MaxHoldTTL = 7 * 24 * time.Hour

// ReserveInput opens a hold.
type ReserveInput struct {
	AccountID      string
	Amount         Credits
	TTL            time.Duration
	IdempotencyKey string
	RequestHash    string
	Actor          string
	Reason         string
	// What the hold is for (API reservations); stored with it.
	Action         string
	AttributesJSON string
	QuantitiesJSON string
	APIKeyID       string
	// MaxActive caps the account's active holds (the plan's max_active_holds); 0: no cap.
	MaxActive int
	// MemberID attributes the hold (and its commit) to a member, whose limit it must fit.
	MemberID string
}

// HoldResult is a hold and whether it was an idempotent replay.
type HoldResult struct {
	Hold     Hold
	Replayed bool
}

func (in *ReserveInput) normalize() error {
	var v Validation
	checkCredits(&v, "credits", in.Amount, 1)
	if in.TTL < time.Second || in.TTL > MaxHoldTTL {
		v.Add("ttl_seconds", "Must be between 1 second and 7 days.")
	}
	if msg := keyProblem(in.IdempotencyKey); msg != "" {
		v.Add("idempotency_key", "%s", msg)
	}
	if in.RequestHash == "" {
		h := sha256.Sum256([]byte(fmt.Sprintf("hold|%d|%d|%s", in.Amount, in.TTL, in.Reason)))
		in.RequestHash = hex.EncodeToString(h[:16])
	}
	in.Actor = actorOr(in.Actor)
	return v.Err()
}

// Reserve holds credits for a long job: available drops, balance does not. With group
// commit on, concurrent reservations share transactions with debits of the same accounts.
// Errors: invalid_request, not_found, insufficient_credits, idempotency_conflict,
// feature_not_entitled (too many open reservations).
func (s *Service) Reserve(ctx context.Context, in ReserveInput) (HoldResult, error) {
	if err := in.normalize(); err != nil {
		return HoldResult{}, err
	}
	var r opResult
	if gc := s.gc.Load(); gc != nil {
		var err error
		if r, err = gc.submitOp(ctx, ledgerOp{reserve: &in}); err != nil {
			return HoldResult{}, err
		}
	} else {
		rs, err := s.applyOps(ctx, []ledgerOp{{reserve: &in}})
		if err != nil {
			return HoldResult{}, err
		}
		r = rs[0]
	}
	return r.hold, r.holdErr
}

// reserveOp decides one reservation against the locked state. The first error is the
// reservation's refusal; the second is a database failure that aborts the transaction.
func (s *Service) reserveOp(ctx context.Context, tx Tx, b *book, in ReserveInput, batch map[AccountKey]*Hold) (HoldResult, error, error) {
	st, err := b.account(in.AccountID)
	if err != nil {
		return HoldResult{}, err, nil
	}
	key := AccountKey{in.AccountID, in.IdempotencyKey}
	prev, err := tx.HoldByKey(ctx, in.AccountID, in.IdempotencyKey)
	if h := batch[key]; h != nil {
		prev, err = *h, nil
	}
	switch {
	case err == nil && prev.RequestHash == in.RequestHash:
		return HoldResult{Hold: prev, Replayed: true}, nil, nil
	case err == nil:
		return HoldResult{}, Errorf(EIdempotencyConflict, "Idempotency key %q was already used with a different request.", in.IdempotencyKey), nil
	case ErrorCode(err) != ENotFound:
		return HoldResult{}, nil, err
	}
	if in.MaxActive > 0 {
		holds, err := tx.ActiveHolds(ctx, in.AccountID)
		if err != nil {
			return HoldResult{}, nil, err
		}
		open := len(holds)
		for k := range batch {
			if k.AccountID == in.AccountID {
				open++
			}
		}
		if open >= in.MaxActive {
			return HoldResult{}, &Error{Code: ENotEntitled, Message: fmt.Sprintf("Your plan allows %d open reservations; commit or release one first.", in.MaxActive),
				Details: map[string]any{"feature": "max_active_holds", "max_active_holds": in.MaxActive}}, nil
		}
	}
	if in.MemberID != "" && st.acc.MemberLimits {
		if err := b.readMembers(ctx, tx, map[string][]string{st.acc.ID: {in.MemberID}}); err != nil {
			return HoldResult{}, nil, err
		}
		ms, err := b.memberSpend(st, in.MemberID)
		if err != nil {
			return HoldResult{}, nil, err
		}
		if ms != nil {
			if err := b.enforceMember(st, ms, in.Amount); err != nil {
				b.memberHits = append(b.memberHits, *ms)
				return HoldResult{}, err, nil
			}
		}
	}
	if avail := b.available(st); avail-in.Amount < -st.acc.OverdraftLimit || st.acc.Reserved > MaxBalance-in.Amount {
		return HoldResult{}, insufficient(in.Amount, avail), nil
	}
	h := Hold{ID: NewID("hld"), AccountID: in.AccountID, Amount: in.Amount, Status: HoldActive,
		ExpiresAt: b.now.Add(in.TTL), IdempotencyKey: in.IdempotencyKey, RequestHash: in.RequestHash,
		Actor: in.Actor, Reason: in.Reason, CreatedAt: b.now,
		Action: in.Action, AttributesJSON: in.AttributesJSON, QuantitiesJSON: in.QuantitiesJSON, APIKeyID: in.APIKeyID, MemberID: in.MemberID}
	st.acc.Reserved += h.Amount
	if ms := b.members[in.MemberID]; in.MemberID != "" && ms != nil && ms.AccountID == st.acc.ID {
		ms.Held = addTotal(ms.Held, h.Amount) // counts against the member's limit until closed
	}
	b.w.newHolds = append(b.w.newHolds, h)
	batch[key] = &b.w.newHolds[len(b.w.newHolds)-1]
	b.entry(st, Entry{HoldID: &h.ID, Kind: KindHold, Amount: -h.Amount, Actor: in.Actor, Reason: in.Reason})
	b.w.jobs = append(b.w.jobs, NewJob(JobHoldExpire, holdExpirePayload{HoldID: h.ID}, h.ExpiresAt, "hold-expire:"+h.ID))
	return HoldResult{Hold: h}, nil, nil
}

// CommitInput charges the actual cost of a held job.
type CommitInput struct {
	HoldID string
	// AccountID, when set, scopes the call: a hold of another account is not_found.
	AccountID      string
	Amount         Credits
	IdempotencyKey string
	RequestHash    string
	Actor          string
	Reason         string
	// Usage, when set, is recorded with the charge.
	Usage *UsageEvent
}

// CommitHold releases the hold and charges the actual cost. A cost above the hold is charged up
// to the hold plus what is available (and the overdraft limit), and, for a hold of a member
// with a limit, up to the hold plus what remains of that limit; the debit then says Capped.
// Errors: invalid_request (hold no longer active), not_found, idempotency_conflict.
func (s *Service) CommitHold(ctx context.Context, in CommitInput) (DebitOutcome, error) {
	if in.HoldID == "" {
		return DebitOutcome{}, FieldError("reservation", "Name the reservation to commit.")
	}
	// The commit's debit is checked like any debit; its account is the hold's, known only under
	// the lock, so the hold id stands in for it in the account check here.
	din := DebitInput{AccountID: in.HoldID, Amount: in.Amount, IdempotencyKey: in.IdempotencyKey, RequestHash: in.RequestHash, Actor: in.Actor, Reason: in.Reason}
	if err := din.normalize(); err != nil {
		return DebitOutcome{}, err
	}
	var out DebitOutcome
	err := s.store.InTx(ctx, func(tx Tx) error {
		h, b, st, err := s.lockHold(ctx, tx, in.HoldID, in.AccountID)
		if err != nil {
			return err
		}
		if prev, err := tx.DebitByKey(ctx, h.AccountID, din.IdempotencyKey); err == nil {
			if prev.RequestHash != din.RequestHash || prev.HoldID == nil || *prev.HoldID != h.ID {
				return Errorf(EIdempotencyConflict, "Idempotency key %q was already used with a different request.", din.IdempotencyKey)
			}
			out = DebitOutcome{Debit: prev, Replayed: true}
			return nil
		} else if ErrorCode(err) != ENotFound {
			return err
		}
		if h.Status != HoldActive {
			return FieldError("reservation", "This reservation is %s and can no longer be committed.", h.Status)
		}
		b.releaseHold(st, h, HoldCommitted, din.Actor, "released by commit")
		// The work is done: the commit counts for the hold's member and is never refused. The
		// hold's amount stops counting as held and the charge is added to the counter; the part
		// up to the hold's amount is always charged (it fitted the limit when reserved), a part
		// above it only as far as the member's limit still has room (what they spent plus their
		// other holds), like the account's available caps a commit: the debit then says Capped.
		var ms *MemberSpend
		if h.MemberID != "" && st.acc.MemberLimits {
			if err := b.readMembers(ctx, tx, map[string][]string{st.acc.ID: {h.MemberID}}); err != nil {
				return err
			}
			if ms, err = b.memberSpend(st, h.MemberID); err != nil {
				return err
			}
		}
		charge := min(in.Amount, b.available(st)+st.acc.OverdraftLimit)
		if ms != nil && ms.MonthlyLimit != nil {
			charge = min(charge, max(h.Amount, memberRoom(ms)))
		}
		d := Debit{ID: NewID("deb"), AccountID: h.AccountID, IdempotencyKey: din.IdempotencyKey, RequestHash: din.RequestHash,
			Amount: charge, Requested: in.Amount, HoldID: &h.ID, Actor: din.Actor, Reason: din.Reason, CreatedAt: b.now}
		h.DebitID = &d.ID
		if in.Usage != nil {
			in.Usage.MemberID = h.MemberID
		}
		out = b.charge(st, &d, in.Usage)
		b.memberCharge(st, ms, d.Amount)
		if err := b.flush(ctx, tx); err != nil {
			return err
		}
		return s.runDebitHooks(ctx, tx, b)
	})
	return out, err
}

// ReleaseHold frees a hold without charging. Releasing a hold that is no longer active
// changes nothing and returns it as it is. Errors: not_found.
func (s *Service) ReleaseHold(ctx context.Context, holdID, accountID, actor string) (Hold, error) {
	var out Hold
	err := s.store.InTx(ctx, func(tx Tx) error {
		h, b, st, err := s.lockHold(ctx, tx, holdID, accountID)
		if err != nil {
			return err
		}
		if h.Status == HoldActive {
			b.releaseHold(st, h, HoldReleased, actorOr(actor), "released")
		}
		out = *h
		return b.flush(ctx, tx)
	})
	return out, err
}

// ExpireHold releases one hold if it is active and past its TTL; otherwise it does nothing.
func (s *Service) ExpireHold(ctx context.Context, holdID string) (bool, error) {
	expired := false
	err := s.store.InTx(ctx, func(tx Tx) error {
		h, b, st, err := s.lockHold(ctx, tx, holdID, "")
		if err != nil {
			return err
		}
		if h.Status != HoldActive || h.ExpiresAt.After(b.now) {
			return nil
		}
		b.releaseHold(st, h, HoldExpired, "job", "reservation expired")
		expired = true
		return b.flush(ctx, tx)
	})
	return expired, err
}

// ExpireHolds is the safety-net sweep behind the per-hold expiry jobs.
func (s *Service) ExpireHolds(ctx context.Context) (int, error) {
	ids, err := s.store.ExpiredHolds(ctx, s.Now(), 500)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		ok, err := s.ExpireHold(ctx, id)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// lockHold locks the hold's account, then reads the hold under that lock.
func (s *Service) lockHold(ctx context.Context, tx Tx, holdID, scope string) (*Hold, *book, *acctState, error) {
	notFound := Errorf(ENotFound, "No reservation %s.", holdID)
	h0, err := tx.HoldByID(ctx, holdID)
	if ErrorCode(err) == ENotFound || (err == nil && scope != "" && h0.AccountID != scope) {
		return nil, nil, nil, notFound
	}
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := loadBook(ctx, tx, s.Now(), []string{h0.AccountID})
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := b.account(h0.AccountID)
	if err != nil {
		return nil, nil, nil, err
	}
	if h := b.w.holdChanges[holdID]; h != nil { // loading the book just reduced it
		return h, b, st, nil
	}
	h, err := tx.HoldByID(ctx, holdID) // again, now under the account lock
	if err != nil {
		return nil, nil, nil, err
	}
	return &h, b, st, nil
}

// releaseHold closes a hold with a release entry; reserved drops by its amount.
func (b *book) releaseHold(st *acctState, h *Hold, status, actor, reason string) {
	st.acc.Reserved -= h.Amount
	h.Status = status
	t := b.now
	h.ClosedAt = &t
	b.w.holdChanges[h.ID] = h
	b.entry(st, Entry{HoldID: &h.ID, Kind: KindRelease, Amount: h.Amount, Actor: actor, Reason: reason})
}

type holdExpirePayload struct {
	HoldID string `json:"hold_id"`
}

type grantExpirePayload struct {
	AccountID string `json:"account_id"`
}

func (s *Service) handleHoldExpire(ctx context.Context, raw json.RawMessage) error {
	var p holdExpirePayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("hold.expire payload: %w", err)
	}
	_, err := s.ExpireHold(ctx, p.HoldID)
	if ErrorCode(err) == ENotFound {
		return nil
	}
	return err
}

func (s *Service) handleGrantExpire(ctx context.Context, raw json.RawMessage) error {
	var p grantExpirePayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("grant.expire payload: %w", err)
	}
	return s.sweepAccounts(ctx, []string{p.AccountID})
}

// sweepAccounts writes expire entries for every grant past its expiry on these accounts.
func (s *Service) sweepAccounts(ctx context.Context, ids []string) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		b, err := loadBook(ctx, tx, s.Now(), ids)
		if err != nil {
			return err
		}
		return b.flush(ctx, tx)
	})
}

// ExpireGrants is the periodic sweep: breakage for every grant past its expiry.
// It returns how many accounts it swept.
func (s *Service) ExpireGrants(ctx context.Context) (int, error) {
	n := 0
	for {
		ids, err := s.store.ExpiredGrantAccounts(ctx, s.Now(), 200)
		if err != nil || len(ids) == 0 {
			return n, err
		}
		if err := s.sweepAccounts(ctx, ids); err != nil {
			return n, err
		}
		n += len(ids)
		if len(ids) < 200 {
			return n, nil
		}
	}
}
