package billing

import (
	"context"
	"encoding/json"
	"time"
)

// UsageEvent is one priced and charged AI action.
type UsageEvent struct {
	ID                 string              `db:"id"`
	AccountID          string              `db:"account_id"`
	DebitID            string              `db:"debit_id"`
	Action             string              `db:"action"`
	Model              string              `db:"model"`
	Quantities         map[string]Quantity `db:"-"`
	Attributes         map[string]string   `db:"-"`
	Credits            Credits             `db:"credits"`
	VendorCostMicroUSD int64               `db:"vendor_cost_micro_usd"`
	PriceVersion       int                 `db:"price_version"`
	Breakdown          Breakdown           `db:"-"`
	IdempotencyKey     string              `db:"idempotency_key"`
	APIKeyID           string              `db:"api_key_id"`
	ClientIP           string              `db:"client_ip"`
	Metadata           json.RawMessage     `db:"-"`
	PromptHash         string              `db:"prompt_hash"`
	Batch              bool                `db:"batch"`
	HoldID             *string             `db:"hold_id"`
	Warnings           []string            `db:"-"`
	OccurredAt         time.Time           `db:"occurred_at"`
	CreatedAt          time.Time           `db:"created_at"`
	// MemberID is the member the usage is attributed to ("" for none).
	MemberID string `db:"member_id"`
}

// UsageFilter selects a page of an account's usage, newest first (keyset on occurred_at, id).
type UsageFilter struct {
	AccountID string
	Action    string
	Model     string
	From, To  *time.Time
	// After is the cursor: the last event of the previous page.
	AfterTime *time.Time
	AfterID   string
	Limit     int
	// MemberID keeps only usage attributed to that member ("" for all).
	MemberID string
	// Viewer, when set, is the membership reading: a role that may not see everyone's usage
	// (a member) reads only their own, whatever MemberID says (scopeUsage).
	Viewer *Membership
}

// noMember matches no usage event: the reads of a viewer without a member id.
const noMember = "mem_none"

// scopeUsage forces a member's reads to their own usage.
func scopeUsage(f *UsageFilter) {
	if f.Viewer != nil && !Can(f.Viewer.Role, ActViewAllUsage) {
		f.MemberID = f.Viewer.ID
		if f.MemberID == "" {
			f.MemberID = noMember
		}
	}
}

// UsageStore reads usage events.
type UsageStore interface {
	// UsageByDebit returns ENotFound when the debit has no usage event.
	UsageByDebit(ctx context.Context, debitID string) (UsageEvent, error)
	UsagePage(ctx context.Context, f UsageFilter) ([]UsageEvent, error)
}

// UsageInput is one AI action to charge.
type UsageInput struct {
	AccountID      string
	Action         string
	Quantities     map[string]Quantity
	Attributes     map[string]string
	IdempotencyKey string
	// RequestHash identifies the request body behind the key (same key, other body: conflict).
	RequestHash string
	OccurredAt  *time.Time
	Metadata    json.RawMessage
	// APIKeyID is the key recorded on the event; Key, when set, replaces it and makes AccountID
	// a ref (an id or external:<id>) that AuthorizeAccount's scope and rate limit apply to.
	APIKeyID string
	Key      *APIKey
	ClientIP string
	Batch    bool
	// Member attributes the usage: "mem_..." or "email:<address>" ("" for the key's member, if any).
	Member string
}

// UsageResult is the answer for one action.
type UsageResult struct {
	Event     UsageEvent
	Balance   Credits
	Available Credits
	Warnings  []string
	Replayed  bool
	Err       error
}

// ChargeUsage charges one action. Errors, in the order they are checked: not_found (account),
// rate_limited (with a Key), account_paused/account_suspended, unknown_action/invalid_request (price),
// feature_not_entitled, spend_limit_reached, insufficient_credits, idempotency_conflict.
func (s *Service) ChargeUsage(ctx context.Context, in UsageInput) (UsageResult, error) {
	rs, err := s.ChargeUsageBatch(ctx, []UsageInput{in})
	if err != nil {
		return UsageResult{}, err
	}
	return rs[0], rs[0].Err
}

// ChargeUsageBatch prices every action and charges them in one transaction; each stands alone.
func (s *Service) ChargeUsageBatch(ctx context.Context, ins []UsageInput) ([]UsageResult, error) {
	out := make([]UsageResult, len(ins))
	var memo *authMemo
	if len(ins) > 1 {
		memo = &authMemo{}
	}
	// Authorisation (scope, rate limit) happens once per input, before any pricing round.
	accs := make(map[string]Account, 4)
	todo := make([]int, 0, len(ins))
	for i, in := range ins {
		acc, err := s.inputAccount(ctx, in, memo)
		if err != nil && ErrorCode(err) == EInternal {
			return nil, err
		}
		if err != nil {
			out[i].Err = err
			continue
		}
		accs[in.AccountID] = acc
		todo = append(todo, i)
	}
	// A snapshot may predate a change whose notification has not arrived yet. A refusal read
	// from it (paused, suspended, not entitled) is confirmed on the row, once per account; a
	// debit priced for a plan the account has left is priced again on the row, twice more at
	// most. Once a round has committed, a later failure is reported on the inputs still
	// undecided: the results already charged are returned, never dropped.
	committed := false
	fail := func(err error, pending []int) ([]UsageResult, error) {
		if !committed {
			return nil, err
		}
		for _, i := range pending {
			out[i] = UsageResult{Err: err}
		}
		return out, nil
	}
	confirmed := map[string]bool{}
	for round := 0; len(todo) > 0; round++ {
		if round > 0 {
			if err := s.refreshAccounts(ctx, ins, todo, accs); err != nil {
				return fail(err, todo)
			}
		}
		var debits []DebitInput
		var index []int
		for _, i := range todo {
			ref := ins[i].AccountID
			d, err := s.prepareUsage(ctx, accs[ref], ins[i])
			if refusedOnSnapshot(err) && round == 0 && !confirmed[ref] {
				confirmed[ref] = true
				if err := s.refreshAccounts(ctx, ins, []int{i}, accs); err != nil {
					return fail(err, todo)
				}
				d, err = s.prepareUsage(ctx, accs[ref], ins[i])
			}
			if err != nil {
				out[i] = UsageResult{Err: err}
				continue
			}
			debits = append(debits, d)
			index = append(index, i)
		}
		outs, err := s.DebitBatch(ctx, debits)
		if err != nil {
			return fail(err, index)
		}
		committed = true
		todo = todo[:0]
		for j, o := range outs {
			i := index[j]
			if o.Err == errPlanChanged && round < 2 {
				todo = append(todo, i)
				continue
			}
			out[i] = UsageResult{Err: o.Err, Replayed: o.Replayed, Warnings: o.Warnings,
				Balance: o.Debit.BalanceAfter, Available: o.Debit.AvailableAfter}
			switch {
			case o.Err != nil:
			case o.Replayed:
				ev, err := s.store.UsageByDebit(ctx, o.Debit.ID)
				if err != nil {
					out[i] = UsageResult{Err: err}
					continue
				}
				out[i].Event, out[i].Warnings = ev, ev.Warnings
			default:
				out[i].Event = *o.Usage
				s.NoteMemberActive(o.Usage.MemberID)
			}
		}
	}
	return out, nil
}

// errPlanChanged refuses a debit priced for a plan the account is no longer on;
// ChargeUsageBatch prices it again, and returns it (409 conflict, retry) only when the plan
// changed three times during one request.
var errPlanChanged = &Error{Code: EConflict, Message: "The account's plan changed while this action was priced; retry."}

// refusedOnSnapshot is true for the refusals prepareUsage takes from the account's snapshot.
func refusedOnSnapshot(err error) bool {
	switch ErrorCode(err) {
	case EAccountPaused, EAccountSuspended, ENotEntitled, EVerificationRequired:
		return true
	}
	return false
}

// refreshAccounts reads the accounts of ins[at] from the database (one primary-key read
// each) and renews their snapshots. An account gone is left out (not_found later).
func (s *Service) refreshAccounts(ctx context.Context, ins []UsageInput, at []int, accs map[string]Account) error {
	done := map[string]bool{}
	for _, i := range at {
		ref := ins[i].AccountID
		if done[ref] {
			continue
		}
		done[ref] = true
		id := ref
		if a, ok := accs[ref]; ok { // re-read what was authorised, not whatever ref names now
			id = a.ID
		}
		a, err := s.ResolveAccount(ctx, id)
		if ErrorCode(err) == ENotFound {
			delete(accs, ref)
			continue
		}
		if err != nil {
			return err
		}
		s.snapshot(ref, a)
		accs[ref] = a
	}
	return nil
}

// prepareUsage checks what can be checked before the lock, prices, and builds the debit.
func (s *Service) prepareUsage(ctx context.Context, acc Account, in UsageInput) (DebitInput, error) {
	if acc.ID == "" { // gone since it was authorised (refreshAccounts)
		return DebitInput{}, Errorf(ENotFound, "No account %s.", in.AccountID)
	}
	if in.Key != nil {
		in.APIKeyID = in.Key.ID
	}
	if err := CheckIdempotencyKey(in.IdempotencyKey); err != nil {
		return DebitInput{}, err
	}
	now := s.Now()
	at := now
	if in.OccurredAt != nil {
		if in.OccurredAt.After(now.Add(5*time.Minute)) || in.OccurredAt.Before(now.Add(-30*24*time.Hour)) {
			return DebitInput{}, FieldError("occurred_at", "Must be within the last 30 days and not in the future.")
		}
		at = in.OccurredAt.UTC()
	}
	memberID, err := s.resolveMember(ctx, acc.ID, in.Member, in.Key)
	if err != nil && ErrorCode(err) == EInvalid {
		// A replay of a recorded debit answers what it answered then, even when the member it
		// names has gone since: the debit is found by its key before any member is looked at.
		// (Looked up only here, off the hot path.)
		if _, derr := s.store.DebitByKey(ctx, acc.ID, in.IdempotencyKey); derr == nil {
			memberID, err = "", nil
		}
	}
	if err != nil {
		return DebitInput{}, err
	}
	q, _, err := s.quote(ctx, acc, in.Action, in.Quantities, in.Attributes, in.Batch, at)
	if err != nil {
		return DebitInput{}, err
	}
	ev := &UsageEvent{MemberID: memberID, Action: in.Action, Model: in.Attributes["model"], Quantities: in.Quantities, Attributes: in.Attributes,
		VendorCostMicroUSD: q.VendorCostMicroUSD, PriceVersion: q.PriceVersion, Breakdown: q.Breakdown,
		APIKeyID: in.APIKeyID, ClientIP: in.ClientIP, Metadata: in.Metadata, PromptHash: in.Attributes["prompt_hash"],
		Batch: in.Batch, OccurredAt: at}
	return DebitInput{AccountID: acc.ID, Amount: q.Credits, IdempotencyKey: in.IdempotencyKey, RequestHash: in.RequestHash,
		Actor: actorKey(in.APIKeyID), Reason: in.Action, Enforce: true, Usage: ev, PlanKey: acc.PlanKey, MemberID: memberID}, nil
}

func actorKey(keyID string) string {
	if keyID == "" {
		return "api"
	}
	return "key:" + keyID
}

// quote applies the checks that come before the balance, in the API's order: status, price,
// entitlement. The prompt_hash attribute is evidence for abuse rules, never a price input.
func (s *Service) quote(ctx context.Context, acc Account, action string, qs map[string]Quantity, attrs map[string]string, batch bool, at time.Time) (Quote, Plan, error) {
	switch acc.Status {
	case StatusPaused:
		return Quote{}, Plan{}, Errorf(EAccountPaused, "This account is paused by its owner; usage is refused until it is resumed.")
	case StatusSuspended:
		return Quote{}, Plan{}, SuspendedError(acc)
	}
	if acc.NeedsVerification() {
		return Quote{}, Plan{}, VerificationError()
	}
	plan, err := s.AccountPlan(ctx, acc)
	if err != nil {
		return Quote{}, Plan{}, err
	}
	priced := attrs
	if _, ok := attrs["prompt_hash"]; ok {
		priced = make(map[string]string, len(attrs))
		for k, v := range attrs {
			if k != "prompt_hash" {
				priced[k] = v
			}
		}
	}
	q, err := s.live.Price(PriceRequest{Action: action, Quantities: qs, Attributes: priced, Plan: plan.Key,
		PlanMultiplier: plan.Multiplier, Batch: batch, At: at})
	if err != nil {
		return Quote{}, Plan{}, err
	}
	if q.Premium && !plan.Entitlements.PremiumModels {
		return Quote{}, Plan{}, notEntitled(FeaturePremiumModels, plan)
	}
	if batch && !plan.Entitlements.Batch {
		return Quote{}, Plan{}, notEntitled(FeatureBatch, plan)
	}
	return q, plan, nil
}

func notEntitled(feature string, plan Plan) *Error {
	return &Error{Code: ENotEntitled, Message: "The " + plan.Name + " plan does not include " + feature + "; upgrade to use it.",
		Details: map[string]any{"feature": feature, "plan": plan.Key}}
}

// EstimateResult prices an action without charging it.
type EstimateResult struct {
	Quote          Quote
	Allowed        bool
	Reason         string
	AvailableAfter Credits
}

// Estimate prices an action and says whether a debit would pass now; it never changes anything.
// Errors: not_found, unknown_action, invalid_request (a refusal is Allowed=false with a Reason).
func (s *Service) Estimate(ctx context.Context, accountID, action string, qs map[string]Quantity, attrs map[string]string, batch bool) (EstimateResult, error) {
	bal, err := s.Balance(ctx, accountID)
	if err != nil {
		return EstimateResult{}, err
	}
	now := s.Now()
	acc := bal.Account
	q, _, err := s.quote(ctx, Account{Status: StatusActive, PlanKey: acc.PlanKey}, action, qs, attrs, batch, now)
	if err != nil && ErrorCode(err) != ENotEntitled {
		return EstimateResult{}, err
	}
	if ErrorCode(err) == ENotEntitled { // price anyway, say it is refused
		plan, perr := s.AccountPlan(ctx, acc)
		if perr != nil {
			return EstimateResult{}, perr
		}
		q, _ = s.live.Price(PriceRequest{Action: action, Quantities: qs, Attributes: attrs, Plan: plan.Key, PlanMultiplier: plan.Multiplier, Batch: batch, At: now})
	}
	res := EstimateResult{Quote: q, Allowed: true, AvailableAfter: bal.Available - q.Credits}
	refuse := func(code string) { res.Allowed, res.Reason = false, code }
	b := &book{now: now}
	switch {
	case acc.Status == StatusPaused:
		refuse(EAccountPaused)
	case acc.Status == StatusSuspended:
		refuse(EAccountSuspended)
	case ErrorCode(err) == ENotEntitled:
		refuse(ENotEntitled)
	case b.enforce(&acctState{acc: acc}, q.Credits) != nil:
		refuse(ESpendLimit)
	case res.AvailableAfter < -acc.OverdraftLimit:
		refuse(EInsufficient)
	}
	return res, nil
}

// UsagePage lists an account's usage, newest first (keyset pagination).
func (s *Service) UsagePage(ctx context.Context, f UsageFilter) ([]UsageEvent, error) {
	scopeUsage(&f)
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 50
	}
	return s.store.UsagePage(ctx, f)
}
