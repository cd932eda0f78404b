package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// ReserveActionInput reserves the estimated cost of an AI action (API reservations).
type ReserveActionInput struct {
	AccountID      string
	Action         string
	Quantities     map[string]Quantity
	Attributes     map[string]string
	TTL            time.Duration
	IdempotencyKey string
	RequestHash    string
	APIKeyID       string
	// Key, when set, replaces APIKeyID and makes AccountID a ref authorised by AuthorizeAccount.
	Key *APIKey
	// Member attributes the reservation: "mem_..." or "email:<address>" ("" for the key's member, if any).
	Member string
}

// ReserveAction prices the action like an estimate and holds that many credits.
// Errors: as Usage (status, price, entitlement, spend limit), then insufficient_credits,
// feature_not_entitled (too many open reservations), idempotency_conflict.
func (s *Service) ReserveAction(ctx context.Context, in ReserveActionInput) (HoldResult, Quote, error) {
	if in.Key != nil {
		a, err := s.AuthorizeAccount(ctx, *in.Key, in.AccountID)
		if err != nil {
			return HoldResult{}, Quote{}, err
		}
		in.AccountID, in.APIKeyID = a.ID, in.Key.ID
	}
	acc, err := s.store.AccountByID(ctx, in.AccountID)
	if err != nil {
		return HoldResult{}, Quote{}, err
	}
	memberID, err := s.resolveMember(ctx, acc.ID, in.Member, in.Key)
	if err != nil && ErrorCode(err) == EInvalid {
		// A replay of a recorded reservation answers what it answered then, even when the
		// member it names has gone since (Reserve finds the hold by its key first).
		if h, herr := s.holdByKey(ctx, acc.ID, in.IdempotencyKey); herr == nil {
			memberID, err = h.MemberID, nil
		}
	}
	if err != nil {
		return HoldResult{}, Quote{}, err
	}
	q, plan, err := s.quote(ctx, acc, in.Action, in.Quantities, in.Attributes, false, s.Now())
	if err != nil {
		return HoldResult{}, Quote{}, err
	}
	b := &book{now: s.Now()}
	if err := b.enforce(&acctState{acc: acc}, q.Credits); err != nil {
		return HoldResult{}, Quote{}, err
	}
	if plan.Entitlements.MaxActiveHolds == 0 {
		return HoldResult{}, Quote{}, notEntitled("reservations", plan)
	}
	if q.Credits == 0 {
		return HoldResult{}, Quote{}, FieldError("quantities", "This action costs 0 credits; there is nothing to reserve.")
	}
	attrs, _ := json.Marshal(in.Attributes)
	qs, _ := json.Marshal(in.Quantities)
	res, err := s.Reserve(ctx, ReserveInput{AccountID: acc.ID, Amount: q.Credits, TTL: in.TTL, IdempotencyKey: in.IdempotencyKey,
		RequestHash: in.RequestHash, Actor: actorKey(in.APIKeyID), Reason: in.Action, Action: in.Action,
		AttributesJSON: string(attrs), QuantitiesJSON: string(qs), APIKeyID: in.APIKeyID, MaxActive: plan.Entitlements.MaxActiveHolds,
		MemberID: memberID})
	return res, q, err
}

// CommitActionInput charges the actual quantities of a reserved action.
type CommitActionInput struct {
	HoldID    string
	AccountID string // scope: "" for platform keys
	// Quantities actually used; Attributes override the reserved ones when set.
	Quantities     map[string]Quantity
	Attributes     map[string]string
	IdempotencyKey string
	RequestHash    string
	APIKeyID       string
	// Key, when set, replaces APIKeyID: it must reach the hold's account, and the request
	// counts against that account's rate limit.
	Key      *APIKey
	ClientIP string
}

// CommitAction prices the actual use at now and commits the hold with a usage event.
// Errors: not_found, rate_limited (with a Key), invalid_request (hold not active; bad
// quantities), unknown_action, idempotency_conflict. A cost above what the account can cover
// is capped (warning).
func (s *Service) CommitAction(ctx context.Context, in CommitActionInput) (UsageResult, error) {
	h, err := s.store.HoldByID(ctx, in.HoldID)
	mine := (in.AccountID == "" || h.AccountID == in.AccountID) && (in.Key == nil || in.Key.reaches(h.AccountID))
	if h, err = owned(h, err, mine, "No reservation "+in.HoldID+"."); err != nil {
		return UsageResult{}, err
	}
	acc, err := s.store.AccountByID(ctx, h.AccountID)
	if err != nil {
		return UsageResult{}, err
	}
	if in.Key != nil {
		if err := s.rateLimit(ctx, *in.Key, acc); err != nil {
			return UsageResult{}, err
		}
		in.APIKeyID = in.Key.ID
	}
	attrs := in.Attributes
	if attrs == nil {
		if err := json.Unmarshal([]byte(h.AttributesJSON), &attrs); err != nil {
			return UsageResult{}, fmt.Errorf("billing: hold %s attributes: %w", h.ID, err)
		}
	}
	acc.Status = StatusActive // the work is done: a commit is charged whatever the status now
	now := s.Now()
	q, _, err := s.quote(ctx, acc, h.Action, in.Quantities, attrs, false, now)
	if err != nil && ErrorCode(err) != ENotEntitled {
		return UsageResult{}, err
	}
	if ErrorCode(err) == ENotEntitled { // the plan changed since the reservation: price as reserved
		plan, perr := s.AccountPlan(ctx, acc)
		if perr != nil {
			return UsageResult{}, perr
		}
		if q, err = s.live.Price(PriceRequest{Action: h.Action, Quantities: in.Quantities, Attributes: attrs, Plan: plan.Key, PlanMultiplier: plan.Multiplier, At: now}); err != nil {
			return UsageResult{}, err
		}
	}
	ev := &UsageEvent{Action: h.Action, Model: attrs["model"], Quantities: in.Quantities, Attributes: attrs,
		VendorCostMicroUSD: q.VendorCostMicroUSD, PriceVersion: q.PriceVersion, Breakdown: q.Breakdown,
		APIKeyID: in.APIKeyID, ClientIP: in.ClientIP, PromptHash: attrs["prompt_hash"], OccurredAt: now}
	out, err := s.CommitHold(ctx, CommitInput{HoldID: h.ID, AccountID: in.AccountID, Amount: q.Credits, IdempotencyKey: in.IdempotencyKey,
		RequestHash: in.RequestHash, Actor: actorKey(in.APIKeyID), Reason: h.Action, Usage: ev})
	if err != nil {
		return UsageResult{}, err
	}
	res := UsageResult{Replayed: out.Replayed, Warnings: out.Warnings, Balance: out.Debit.BalanceAfter, Available: out.Debit.AvailableAfter}
	if out.Replayed {
		e, err := s.store.UsageByDebit(ctx, out.Debit.ID)
		if err != nil {
			return UsageResult{}, err
		}
		res.Event, res.Warnings = e, e.Warnings
		return res, nil
	}
	res.Event = *out.Usage
	s.NoteMemberActive(res.Event.MemberID)
	return res, nil
}

// Reservation reads a hold; scope ("" for none) limits it to one account. Errors: not_found.
func (s *Service) Reservation(ctx context.Context, id, scope string) (Hold, error) {
	h, err := s.store.HoldByID(ctx, id)
	return owned(h, err, scope == "" || h.AccountID == scope, "No reservation "+id+".")
}

// holdByKey reads a hold by its idempotency key (ENotFound when none).
func (s *Service) holdByKey(ctx context.Context, accountID, key string) (Hold, error) {
	var h Hold
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		h, err = tx.HoldByKey(ctx, accountID, key)
		return err
	})
	return h, err
}
