package billing

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// apiLimiters holds one fixed-window limiter per distinct per-minute limit, so plans with the
// same limit share one map. Each process counts on its own.
type apiLimiters struct {
	mu sync.Mutex
	m  map[int]*Limiter
}

func (l *apiLimiters) get(perMin int, now func() time.Time) *Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[int]*Limiter{}
	}
	if lim := l.m[perMin]; lim != nil {
		return lim
	}
	lim := NewLimiter(perMin, time.Minute, now)
	l.m[perMin] = lim
	return lim
}

// reaches says whether the key may act on the account: a platform key on any, an account key
// on its own only.
func (k APIKey) reaches(accountID string) bool {
	return k.Kind != KeyAccount || (k.AccountID != nil && *k.AccountID == accountID)
}

// AuthorizeAccount is the API's one authorisation point for an account: it resolves ref (an
// id or external:<id>), applies the key's scope and counts one request of this key on this
// account against the plan's per-minute limit. Errors: invalid_request (no ref), not_found
// (unknown, or another account than an account key's own), rate_limited (Details:
// limit_per_min, retry_after in seconds).
func (s *Service) AuthorizeAccount(ctx context.Context, key APIKey, ref string) (Account, error) {
	a, err := s.scopedAccount(ctx, key, ref)
	if err != nil {
		return Account{}, err
	}
	if err := s.rateLimit(ctx, key, a); err != nil {
		return Account{}, err
	}
	return a, nil
}

// scopedAccount is AuthorizeAccount without the rate limit.
func (s *Service) scopedAccount(ctx context.Context, key APIKey, ref string) (Account, error) {
	if strings.TrimSpace(ref) == "" {
		return Account{}, FieldError("account", "Required: an account id (acc_...) or external:<your id>.")
	}
	a, err := s.AccountSnapshot(ctx, ref)
	if err != nil {
		return Account{}, err
	}
	if !key.reaches(a.ID) {
		return Account{}, Errorf(ENotFound, "No account %s.", ref)
	}
	return a, nil
}

// rateLimit counts one request of key on a against a's plan limit. Errors: rate_limited.
func (s *Service) rateLimit(ctx context.Context, key APIKey, a Account) error {
	ent, err := s.Entitlements(ctx, a)
	if err != nil {
		return err
	}
	ok, wait := s.apiLimits.get(ent.RateLimitPerMin, s.now).Allow(key.ID + "|" + a.ID)
	if ok {
		return nil
	}
	s.refusals.add(a.ID)
	secs := max(int((wait+time.Second-1)/time.Second), 1)
	return &Error{Code: ERateLimited,
		Message: fmt.Sprintf("Rate limit of %d requests per minute reached for this key and account; retry in %d s.", ent.RateLimitPerMin, secs),
		Details: map[string]any{"limit_per_min": ent.RateLimitPerMin, "retry_after": secs}}
}

// authMemo remembers, across the inputs of one call, each ref's account (or refusal) and each
// key and account counted against the rate limit, so a batch counts once per account it
// names. A call of one input needs neither map.
type authMemo struct {
	refs    map[string]authorized
	counted map[string]error
}

type authorized struct {
	acc Account
	err error
}

// inputAccount resolves the account of a usage input: with a Key, scoped and rate-limited.
// memo is nil for a call of one input.
func (s *Service) inputAccount(ctx context.Context, in UsageInput, memo *authMemo) (Account, error) {
	if memo == nil {
		if in.Key == nil {
			return s.AccountSnapshot(ctx, in.AccountID)
		}
		return s.AuthorizeAccount(ctx, *in.Key, in.AccountID)
	}
	// Keyed by key and ref: one call may carry inputs of different keys.
	memoKey := in.AccountID
	if in.Key != nil {
		memoKey = in.Key.ID + "|" + in.AccountID
	}
	if r, ok := memo.refs[memoKey]; ok {
		return r.acc, r.err
	}
	var a Account
	var err error
	if in.Key == nil {
		a, err = s.AccountSnapshot(ctx, in.AccountID)
	} else if a, err = s.scopedAccount(ctx, *in.Key, in.AccountID); err == nil {
		seen := in.Key.ID + "|" + a.ID
		var done bool
		if err, done = memo.counted[seen]; !done {
			err = s.rateLimit(ctx, *in.Key, a)
			if memo.counted == nil {
				memo.counted = map[string]error{}
			}
			memo.counted[seen] = err
		}
	}
	if memo.refs == nil {
		memo.refs = map[string]authorized{}
	}
	memo.refs[memoKey] = authorized{acc: a, err: err}
	return a, err
}

// EstimateForKey is Estimate for an API key, with ref (an id or external:<id>) authorised by
// AuthorizeAccount first. Errors: AuthorizeAccount's, then Estimate's.
func (s *Service) EstimateForKey(ctx context.Context, key APIKey, ref, action string, qs map[string]Quantity, attrs map[string]string, batch bool) (EstimateResult, error) {
	a, err := s.AuthorizeAccount(ctx, key, ref)
	if err != nil {
		return EstimateResult{}, err
	}
	return s.Estimate(ctx, a.ID, action, qs, attrs, batch)
}

// EstimateForMember is EstimateForKey attributed to member ("mem_...", "email:<address>", or
// "" for the key's own member): a debit that would pass the member's monthly limit is
// refused with member_limit_reached. Errors: as EstimateForKey, invalid_request on member.
func (s *Service) EstimateForMember(ctx context.Context, key APIKey, ref, member, action string, qs map[string]Quantity, attrs map[string]string, batch bool) (EstimateResult, error) {
	a, err := s.AuthorizeAccount(ctx, key, ref)
	if err != nil {
		return EstimateResult{}, err
	}
	memberID, err := s.resolveMember(ctx, a.ID, member, &key)
	if err != nil {
		return EstimateResult{}, err
	}
	res, err := s.Estimate(ctx, a.ID, action, qs, attrs, batch)
	if err != nil || !res.Allowed || memberID == "" || !a.MemberLimits {
		return res, err
	}
	ms, err := s.store.MemberSpendOf(ctx, a.ID, memberID)
	if err != nil {
		return EstimateResult{}, err
	}
	st := &acctState{acc: a}
	b := &book{now: s.Now(), accounts: map[string]*acctState{a.ID: st}}
	if start, _ := SpendPeriod(a, b.now); ms.MonthlyLimit != nil && (ms.PeriodStart == nil || !ms.PeriodStart.Equal(start)) {
		// The counter is of another period: bring it to this one as a debit would (read only,
		// nothing is written), so that a new period is not refused on the last one's spend.
		if err := s.store.InTx(ctx, func(tx Tx) error { return b.syncMemberPeriod(ctx, tx, &ms) }); err != nil {
			return EstimateResult{}, err
		}
	}
	b.members = map[string]*MemberSpend{memberID: &ms}
	if m, _ := b.memberSpend(st, memberID); m != nil && b.enforceMember(st, m, res.Quote.Credits) != nil {
		res.Allowed, res.Reason = false, EMemberLimit
	}
	return res, nil
}

// APIMembership is the membership an API key acts as on acc: the member who created an
// account key, or, for a platform key or an operator's account key, the owner's rights (with
// no member id). Errors: not_found (the key's member has left).
func (s *Service) APIMembership(ctx context.Context, key APIKey, acc Account) (Membership, error) {
	if key.MemberID == nil {
		return Membership{AccountID: acc.ID, AccountName: acc.Name, Role: RoleOwner}, nil
	}
	set, err := s.memberSetOf(ctx, acc.ID)
	if err != nil {
		return Membership{}, err
	}
	r, ok := set.byID[*key.MemberID]
	if !ok {
		return Membership{}, Errorf(ENotFound, "No account %s.", acc.ID)
	}
	return Membership{ID: r.ID, AccountID: acc.ID, AccountName: acc.Name, UserID: r.UserID, Role: r.Role}, nil
}

// ReleaseForKey releases a reservation for an API key: the key must reach the hold's account,
// and the request counts against that account's rate limit. Errors: not_found, rate_limited.
func (s *Service) ReleaseForKey(ctx context.Context, key APIKey, holdID string) (Hold, error) {
	h, err := s.store.HoldByID(ctx, holdID)
	if h, err = owned(h, err, key.reaches(h.AccountID), "No reservation "+holdID+"."); err != nil {
		return Hold{}, err
	}
	a, err := s.AccountSnapshot(ctx, h.AccountID)
	if err != nil {
		return Hold{}, err
	}
	if err := s.rateLimit(ctx, key, a); err != nil {
		return Hold{}, err
	}
	return s.ReleaseHold(ctx, holdID, h.AccountID, actorKey(key.ID))
}
