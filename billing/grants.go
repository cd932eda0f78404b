package billing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// GrantInput describes credits to add to an account.
type GrantInput struct {
	AccountID             string
	Source                string
	Amount                Credits
	Priority              *int
	EffectiveAt           *time.Time
	ExpiresAt             *time.Time
	PaidAmount            int64
	Currency              string
	StripeCheckoutSession string
	StripePaymentIntent   string
	StripeInvoice         string
	IdempotencyKey        string
	Actor                 string
	Reason                string
	// TestMode: fulfilled by the test-mode payment provider (never counted as revenue).
	TestMode bool
}

func (in GrantInput) hash() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%d|%v|%v|%v|%d|%s|%s", in.Source, in.Amount, deref(in.Priority), tstr(in.EffectiveAt), tstr(in.ExpiresAt), in.PaidAmount, in.Currency, in.Reason)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func deref(p *int) any {
	if p == nil {
		return "-"
	}
	return *p
}

func tstr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func (in *GrantInput) validate(now time.Time) error {
	var v Validation
	if _, ok := defaultPriority[in.Source]; !ok {
		v.Add("source", "Must be one of purchase, subscription, auto_recharge, promo, trial, adjustment, refund_restore.")
	}
	checkCredits(&v, "credits", in.Amount, 1)
	if in.Priority != nil && (*in.Priority < 0 || *in.Priority > 1000) {
		v.Add("priority", "Must be between 0 and 1000.")
	}
	eff := now
	if in.EffectiveAt != nil {
		eff = *in.EffectiveAt
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(eff) {
		v.Add("expires_at", "Must be after the grant takes effect.")
	}
	if in.PaidAmount < 0 || in.PaidAmount > MaxMoney {
		v.Add("paid_amount", "Must be from 0 to %d.", MaxMoney)
	}
	if (in.Source == "adjustment" || in.Source == "refund_restore") && strings.TrimSpace(in.Reason) == "" {
		v.Add("reason", "Say why these credits are granted.")
	}
	if in.IdempotencyKey != "" { // optional for grants the system makes; the API requires one
		if msg := keyProblem(in.IdempotencyKey); msg != "" {
			v.Add("idempotency_key", "%s", msg)
		}
	}
	if in.Actor == "" {
		in.Actor = "system"
	}
	return v.Err()
}

// newGrant turns valid input into a Grant row.
func (in GrantInput) newGrant(now time.Time) Grant {
	prio := defaultPriority[in.Source]
	if in.Priority != nil {
		prio = *in.Priority
	}
	eff := now
	if in.EffectiveAt != nil {
		eff = in.EffectiveAt.UTC()
	}
	cur := strings.ToLower(in.Currency)
	if cur == "" {
		cur = "usd"
	}
	return Grant{
		ID: NewID("grt"), AccountID: in.AccountID, Source: in.Source, Amount: in.Amount, Remaining: in.Amount,
		Priority: prio, EffectiveAt: eff, ExpiresAt: utcPtr(in.ExpiresAt), PaidAmount: in.PaidAmount, Currency: cur,
		StripeCheckoutSession: optional(in.StripeCheckoutSession), StripePaymentIntent: optional(in.StripePaymentIntent),
		StripeInvoice: optional(in.StripeInvoice), IdempotencyKey: optional(in.IdempotencyKey), RequestHash: in.hash(),
		Actor: in.Actor, Reason: in.Reason, CreatedAt: now, TestMode: in.TestMode,
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// GrantResult is a grant and whether it was an idempotent replay.
type GrantResult struct {
	Grant    Grant
	Replayed bool
}

// Grant adds credits to an account in one transaction, with its ledger entry.
// Errors: invalid_request, not_found (account), idempotency_conflict (same key, other request).
func (s *Service) Grant(ctx context.Context, in GrantInput) (GrantResult, error) {
	var res GrantResult
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		res, err = s.grantTx(ctx, tx, in)
		return err
	})
	return res, err
}

// grantTx grants inside a caller's transaction (sign-up trial, payments fulfilment).
func (s *Service) grantTx(ctx context.Context, tx Tx, in GrantInput) (GrantResult, error) {
	now := s.Now()
	if err := in.validate(now); err != nil {
		return GrantResult{}, err
	}
	b, err := loadBook(ctx, tx, now, []string{in.AccountID})
	if err != nil {
		return GrantResult{}, err
	}
	st, err := b.account(in.AccountID)
	if err != nil {
		return GrantResult{}, err
	}
	if in.IdempotencyKey != "" {
		prev, err := tx.GrantByKey(ctx, in.AccountID, in.IdempotencyKey)
		switch {
		case err == nil && prev.RequestHash == in.hash():
			return GrantResult{Grant: prev, Replayed: true}, nil
		case err == nil:
			return GrantResult{}, Errorf(EIdempotencyConflict, "Idempotency key %q was already used with a different request.", in.IdempotencyKey)
		case ErrorCode(err) != ENotFound:
			return GrantResult{}, err
		}
	}
	if st.acc.Balance > MaxBalance-in.Amount { // both bounded: no overflow here
		return GrantResult{}, FieldError("credits", "This grant would take the balance past %s credits, the most an account may hold.", MaxBalance.Display())
	}
	g := in.newGrant(now)
	b.addGrant(st, g)
	if g.ExpiresAt != nil {
		b.w.jobs = append(b.w.jobs, NewJob(JobGrantExpire, grantExpirePayload{AccountID: g.AccountID}, *g.ExpiresAt, "grant-expire:"+g.ID))
	}
	if err := b.flush(ctx, tx); err != nil {
		return GrantResult{}, err
	}
	return GrantResult{Grant: *st.grants[indexOfGrant(st.grants, g.ID)]}, nil
}

func indexOfGrant(gs []*Grant, id string) int {
	for i, g := range gs {
		if g.ID == id {
			return i
		}
	}
	return -1
}

// grantTrial gives a new portal account its one-time trial credits (0 turns it off).
func (s *Service) grantTrial(ctx context.Context, tx Tx, accountID string) error {
	if s.trialCredits <= 0 {
		return nil
	}
	res, err := s.grantTx(ctx, tx, GrantInput{AccountID: accountID, Source: "trial", Amount: s.trialCredits,
		IdempotencyKey: "trial", Actor: "system", Reason: "sign-up trial"})
	if err != nil {
		return err
	}
	return s.auditGrantBy(ctx, tx, "system", res)
}

// RevokeInput takes back unspent credits of one grant (a refund, an admin decision).
type RevokeInput struct {
	GrantID string
	// Amount to revoke; 0 means everything that remains.
	Amount Credits
	Actor  string
	Reason string
}

// RevokeResult says what was taken back and what could not be, because it was spent.
type RevokeResult struct {
	Revoked   Credits
	Shortfall Credits
	Grant     Grant
}

// Revoke removes up to Amount of a grant's remaining credits.
// Errors: invalid_request (reason missing, negative amount), not_found (grant).
func (s *Service) Revoke(ctx context.Context, in RevokeInput) (RevokeResult, error) {
	var v Validation
	if strings.TrimSpace(in.Reason) == "" {
		v.Add("reason", "Say why these credits are revoked.")
	}
	checkCredits(&v, "credits", in.Amount, 0)
	if err := v.Err(); err != nil {
		return RevokeResult{}, err
	}
	var res RevokeResult
	err := s.store.InTx(ctx, func(tx Tx) error {
		st, g, b, err := s.lockGrant(ctx, tx, in.GrantID)
		if err != nil {
			return err
		}
		want := in.Amount
		if want == 0 {
			want = g.Remaining
		}
		take := min(want, g.Remaining)
		res = RevokeResult{Revoked: take, Shortfall: want - take}
		if take > 0 {
			g.Remaining -= take
			st.acc.Balance -= take
			b.touchGrant(g)
			b.entry(st, Entry{GrantID: &g.ID, Kind: KindRevoke, Amount: -take, Actor: actorOr(in.Actor), Reason: in.Reason})
			if err := b.coverHolds(ctx, tx, st, "reserved credits revoked"); err != nil {
				return err
			}
		}
		res.Grant = *g
		return b.flush(ctx, tx)
	})
	return res, err
}

// AdjustInput moves a grant's remaining up or down (never above its amount, never below 0).
type AdjustInput struct {
	GrantID string
	Amount  Credits // signed
	Actor   string
	Reason  string
}

// Adjust corrects one grant with a reason.
// Errors: invalid_request (reason missing, zero, out of range), not_found (grant).
func (s *Service) Adjust(ctx context.Context, in AdjustInput) (Grant, error) {
	if strings.TrimSpace(in.Reason) == "" {
		return Grant{}, FieldError("reason", "Say why this grant is adjusted.")
	}
	if in.Amount == 0 {
		return Grant{}, FieldError("credits", "Must not be 0.")
	}
	if in.Amount > MaxCredits || in.Amount < -MaxCredits {
		return Grant{}, FieldError("credits", "Must be between -1,000,000,000,000 and 1,000,000,000,000 credits.")
	}
	var out Grant
	err := s.store.InTx(ctx, func(tx Tx) error {
		st, g, b, err := s.lockGrant(ctx, tx, in.GrantID)
		if err != nil {
			return err
		}
		if g.Remaining+in.Amount < 0 || g.Remaining+in.Amount > g.Amount || st.acc.Balance > MaxBalance-in.Amount {
			return FieldError("credits", "The grant has %s of %s left; the result must stay between 0 and %s.", g.Remaining, g.Amount, g.Amount)
		}
		if g.expiredAt(b.now) {
			return FieldError("grant", "The grant has expired.")
		}
		g.Remaining += in.Amount
		st.acc.Balance += in.Amount
		b.touchGrant(g)
		b.entry(st, Entry{GrantID: &g.ID, Kind: KindAdjust, Amount: in.Amount, Actor: actorOr(in.Actor), Reason: in.Reason})
		if err := b.coverHolds(ctx, tx, st, "reserved credits adjusted away"); err != nil {
			return err
		}
		out = *g
		return b.flush(ctx, tx)
	})
	return out, err
}

// lockGrant locks the grant's account (account first, as every ledger write does), then
// finds the grant in the book. Spent-out grants are loaded too, so adjust can restore them.
func (s *Service) lockGrant(ctx context.Context, tx Tx, grantID string) (*acctState, *Grant, *book, error) {
	g0, err := tx.GrantByID(ctx, grantID)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, nil, nil, Errorf(ENotFound, "No grant %s.", grantID)
		}
		return nil, nil, nil, err
	}
	b, err := loadBook(ctx, tx, s.Now(), []string{g0.AccountID})
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := b.account(g0.AccountID)
	if err != nil {
		return nil, nil, nil, err
	}
	if i := indexOfGrant(st.grants, grantID); i >= 0 {
		return st, st.grants[i], b, nil
	}
	// Not live: re-read under the account lock, since g0 was read before it.
	g, err := tx.GrantByID(ctx, grantID)
	if err != nil {
		return nil, nil, nil, err
	}
	st.grants = append(st.grants, &g)
	sortGrants(st.grants)
	return st, &g, b, nil
}

func actorOr(a string) string {
	if a == "" {
		return "system"
	}
	return a
}
