package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// GrantSnapshot is a grant as the audit log records it (and a replay answers it).
type GrantSnapshot struct {
	ID          string     `json:"id"`
	AccountID   string     `json:"account"`
	Source      string     `json:"source"`
	Amount      Credits    `json:"credits"`
	Remaining   Credits    `json:"remaining"`
	Priority    int        `json:"priority"`
	EffectiveAt time.Time  `json:"effective_at"`
	ExpiresAt   *time.Time `json:"expires_at"`
	Reason      string     `json:"reason,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

func snapshotGrant(g Grant) GrantSnapshot {
	return GrantSnapshot{ID: g.ID, AccountID: g.AccountID, Source: g.Source, Amount: g.Amount, Remaining: g.Remaining,
		Priority: g.Priority, EffectiveAt: g.EffectiveAt, ExpiresAt: g.ExpiresAt, Reason: g.Reason, CreatedAt: g.CreatedAt}
}

func (g GrantSnapshot) grant() Grant {
	return Grant{ID: g.ID, AccountID: g.AccountID, Source: g.Source, Amount: g.Amount, Remaining: g.Remaining,
		Priority: g.Priority, EffectiveAt: g.EffectiveAt, ExpiresAt: g.ExpiresAt, Reason: g.Reason, CreatedAt: g.CreatedAt}
}

// revokeState is the before/after of a revoke in the audit log.
type revokeState struct {
	Grant   GrantSnapshot `json:"grant"`
	Balance Credits       `json:"balance"`
	Revoked *Credits      `json:"revoked,omitempty"`
}

// RevokeGrantInput takes credits back from one grant of an account (an operator decision).
type RevokeGrantInput struct {
	AccountID string
	GrantID   string
	// Credits to revoke; nil revokes everything that remains.
	Credits *Credits
	Op      Op
}

// RevokeGrantResult is the grant after the revoke and what was taken.
type RevokeGrantResult struct {
	Grant    Grant
	Revoked  Credits
	Replayed bool
}

// RevokeGrant takes back part or all of what remains of a grant, never more: a `revoke`
// ledger entry and an audit entry in one transaction, once per idempotency key.
// Errors: invalid_request (reason, key, credits above what remains or nothing left),
// not_found (grant, or a grant of another account), idempotency_conflict.
func (s *Service) RevokeGrant(ctx context.Context, in RevokeGrantInput) (RevokeGrantResult, error) {
	var v Validation
	in.Op.validate(&v)
	if in.Op.IdempotencyKey == "" {
		v.Add("idempotency_key", "Required: a unique key per revoke, so a retry never revokes twice.")
	}
	if in.Credits != nil && (*in.Credits <= 0 || *in.Credits > MaxOperatorCredits) {
		v.Add("credits", "Must be more than 0 and at most %s.", MaxOperatorCredits.Display())
	}
	if err := v.Err(); err != nil {
		return RevokeGrantResult{}, err
	}
	all := "all"
	if in.Credits != nil {
		all = in.Credits.String()
	}
	hash := requestHash(AuditRevoke, in.GrantID, all, in.Op.Reason)
	var res RevokeGrantResult
	err := s.store.InTx(ctx, func(tx Tx) error {
		st, g, b, err := s.lockGrant(ctx, tx, in.GrantID)
		if err != nil {
			return err
		}
		if g.AccountID != in.AccountID {
			return Errorf(ENotFound, "No grant %s on account %s.", in.GrantID, in.AccountID)
		}
		prev, err := replayed(ctx, tx, in.Op, in.AccountID, AuditRevoke, hash)
		if err != nil || prev != nil {
			if prev != nil {
				res, err = revokeReplay(*prev)
			}
			return err
		}
		take := g.Remaining
		if in.Credits != nil {
			take = *in.Credits
		}
		switch {
		case g.Remaining == 0:
			return FieldError("credits", "Nothing is left on this grant to revoke.")
		case take > g.Remaining:
			return FieldError("credits", "The grant has %s credits left; revoke at most that.", g.Remaining.Display())
		}
		before := revokeState{Grant: snapshotGrant(*g), Balance: st.acc.Balance}
		g.Remaining -= take
		st.acc.Balance -= take
		b.touchGrant(g)
		b.entry(st, Entry{GrantID: &g.ID, Kind: KindRevoke, Amount: -take, Actor: in.Op.Actor.String(), Reason: in.Op.Reason})
		if err := b.coverHolds(ctx, tx, st, "reserved credits revoked"); err != nil {
			return err
		}
		if err := b.flush(ctx, tx); err != nil {
			return err
		}
		after := revokeState{Grant: snapshotGrant(*g), Balance: st.acc.Balance, Revoked: &take}
		res = RevokeGrantResult{Grant: *g, Revoked: take}
		return s.audit(ctx, tx, in.Op, AuditRevoke, in.AccountID, hash, before, after)
	})
	if err == nil && !res.Replayed {
		s.forgetAccount(in.AccountID)
	}
	return res, err
}

func revokeReplay(e AuditEntry) (RevokeGrantResult, error) {
	var after revokeState
	if err := json.Unmarshal(e.After, &after); err != nil {
		return RevokeGrantResult{}, fmt.Errorf("billing: revoke replay: %w", err)
	}
	var took Credits
	if after.Revoked != nil {
		took = *after.Revoked
	}
	return RevokeGrantResult{Grant: after.Grant.grant(), Revoked: took, Replayed: true}, nil
}

// RevokePreview is what a revoke would do, for the console's confirmation step.
type RevokePreview struct {
	Grant   Grant
	Revoked Credits
}

// PreviewRevoke checks a revoke against the grant as it is now, writing nothing (the revoke
// itself checks again under the lock). Errors: as RevokeGrant.
func (s *Service) PreviewRevoke(ctx context.Context, in RevokeGrantInput) (RevokePreview, error) {
	var v Validation
	in.Op.validate(&v)
	if in.Credits != nil && (*in.Credits <= 0 || *in.Credits > MaxOperatorCredits) {
		v.Add("credits", "Must be more than 0 and at most %s.", MaxOperatorCredits.Display())
	}
	if err := v.Err(); err != nil {
		return RevokePreview{}, err
	}
	gs, err := s.store.GrantsOf(ctx, in.AccountID, CustomerPageGrants)
	if err != nil {
		return RevokePreview{}, err
	}
	for _, g := range gs {
		if g.ID != in.GrantID {
			continue
		}
		left := g.Remaining
		if g.expiredAt(s.Now()) {
			left = 0
		}
		take := left
		if in.Credits != nil {
			take = *in.Credits
		}
		switch {
		case left == 0:
			return RevokePreview{}, FieldError("credits", "Nothing is left on this grant to revoke.")
		case take > left:
			return RevokePreview{}, FieldError("credits", "The grant has %s credits left; revoke at most that.", left.Display())
		}
		return RevokePreview{Grant: g, Revoked: take}, nil
	}
	return RevokePreview{}, FieldError("grant", "Choose one of this account's grants.")
}
