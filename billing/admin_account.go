package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// MaxOperatorCredits bounds every credit amount an operator types (10^12 credits).
const MaxOperatorCredits Credits = 1_000_000_000_000 * Credit

// AccountSettings is what an operator may change on an account, as the audit log records it.
type AccountSettings struct {
	Name           string   `json:"name"`
	Email          string   `json:"email"`
	Plan           string   `json:"plan"`
	Status         string   `json:"status"`
	StatusReason   string   `json:"status_reason,omitempty"`
	OverdraftLimit Credits  `json:"overdraft_limit"`
	SpendLimit     *Credits `json:"spend_limit"`
	SpendLimitMode string   `json:"spend_limit_mode"`
}

// SettingsOf reads an account's operator settings.
func SettingsOf(a Account) AccountSettings {
	return AccountSettings{Name: a.Name, Email: a.Email, Plan: a.PlanKey, Status: a.Status, StatusReason: a.StatusReason,
		OverdraftLimit: a.OverdraftLimit, SpendLimit: a.SpendLimit, SpendLimitMode: a.SpendLimitMode}
}

// AdminTx writes an account's operator settings.
type AdminTx interface {
	AdminKeyTx
	AdminJobTx
	// SetAccountSettings writes every field of s on the account (one UPDATE, which bumps its
	// version). Errors: not_found.
	SetAccountSettings(ctx context.Context, accountID string, s AccountSettings) error
}

// SpendLimitChange sets (Clear false) or removes (Clear true) the monthly spend limit.
type SpendLimitChange struct {
	Clear   bool
	Credits Credits
	Mode    string
}

// AccountUpdate changes some of an account's settings; nil fields stay as they are.
type AccountUpdate struct {
	AccountID      string
	Name           *string
	Email          *string
	Plan           *string
	Status         *string
	OverdraftLimit *Credits
	SpendLimit     *SpendLimitChange
	Op             Op
	// RequireVerification makes the account active but refuses its usage until its owner
	// confirms their email or saves a card (abuse review).
	RequireVerification bool
	// Scope limits what may change: "" (operator: every field) or ScopeAccountKey.
	Scope string
}

// ScopeAccountKey is a customer's own key: only status (active/paused) and the spend limit.
const ScopeAccountKey = "account_key"

func (u AccountUpdate) hash() string {
	str := func(p *string) any {
		if p == nil {
			return "-"
		}
		return *p
	}
	od := any("-")
	if u.OverdraftLimit != nil {
		od = *u.OverdraftLimit
	}
	sl := any("-")
	if u.SpendLimit != nil {
		sl = *u.SpendLimit
	}
	return requestHash(AuditAccountUpdate, str(u.Name), str(u.Email), str(u.Plan), str(u.Status), od, sl, u.Op.Reason, u.RequireVerification)
}

// validate checks the shape of the update (what needs no database).
func (u *AccountUpdate) validate() error {
	if u.Scope == ScopeAccountKey {
		fields := map[string]string{}
		for f, set := range map[string]bool{"name": u.Name != nil, "email": u.Email != nil, "plan": u.Plan != nil,
			"overdraft_limit": u.OverdraftLimit != nil, "verification": u.RequireVerification, "status": u.Status != nil && *u.Status == StatusSuspended} {
			if set {
				fields[f] = "An account key may change only status (active or paused) and spend_limit."
			}
		}
		if len(fields) > 0 {
			return &Error{Code: EForbidden, Message: "An account key may change only status (active or paused) and spend_limit; use a platform key.", Fields: fields}
		}
	}
	var v Validation
	u.Op.validate(&v)
	if u.Name != nil {
		*u.Name = strings.TrimSpace(*u.Name)
		if *u.Name == "" || len(*u.Name) > 200 {
			v.Add("name", "Required, at most 200 characters.")
		} else if p := singleLineProblem(*u.Name); p != "" {
			v.Add("name", "%s", p)
		}
	}
	if u.Email != nil {
		*u.Email = NormalizeEmail(*u.Email)
		if *u.Email != "" {
			validateEmail(&v, *u.Email)
		}
	}
	if u.Status != nil {
		switch *u.Status {
		case StatusActive, StatusPaused:
		case StatusSuspended:
		default:
			v.Add("status", "Must be active, paused or suspended.")
		}
	}
	if u.OverdraftLimit != nil && (*u.OverdraftLimit < 0 || *u.OverdraftLimit > MaxOperatorCredits) {
		v.Add("overdraft_limit", "Must be between 0 and %s.", MaxOperatorCredits.Display())
	}
	if sl := u.SpendLimit; sl != nil && !sl.Clear {
		if sl.Credits < 0 || sl.Credits > MaxOperatorCredits {
			v.Add("spend_limit", "Must be between 0 and %s.", MaxOperatorCredits.Display())
		}
		if sl.Mode != SpendHard && sl.Mode != SpendSoft {
			v.Add("spend_limit_mode", "Must be hard (refuse) or soft (warn).")
		}
	}
	if u.Name == nil && u.Email == nil && u.Plan == nil && u.Status == nil && u.OverdraftLimit == nil && u.SpendLimit == nil && !u.RequireVerification {
		v.Add("body", "Nothing to change: send at least one field besides the reason.")
	}
	return v.Err()
}

// apply returns the settings after the update. A suspension shows the reason to the
// customer; reactivating clears it.
func (u AccountUpdate) apply(s AccountSettings) AccountSettings {
	if u.Name != nil {
		s.Name = *u.Name
	}
	if u.Email != nil {
		s.Email = *u.Email
	}
	if u.Plan != nil {
		s.Plan = *u.Plan
	}
	if u.Status != nil {
		s.Status = *u.Status
		s.StatusReason = ""
		if s.Status != StatusActive {
			s.StatusReason = u.Op.Reason
		}
	}
	if u.RequireVerification {
		s.Status, s.StatusReason = StatusActive, VerificationPending
	}
	if u.OverdraftLimit != nil {
		s.OverdraftLimit = *u.OverdraftLimit
	}
	if sl := u.SpendLimit; sl != nil {
		if sl.Clear {
			s.SpendLimit = nil
		} else {
			c := sl.Credits
			s.SpendLimit, s.SpendLimitMode = &c, sl.Mode
		}
	}
	return s
}

// UpdateAccountResult is the account after the change.
type UpdateAccountResult struct {
	Account  Account
	Replayed bool
}

// UpdateAccount changes an account's settings under its lock, with one audit entry holding
// the settings before and after. A plan set here involves no payment. An overdraft limit
// below the debt already drawn is refused (available must stay >= -overdraft_limit).
// Errors: invalid_request (fields), not_found (account, plan), idempotency_conflict.
func (s *Service) UpdateAccount(ctx context.Context, u AccountUpdate) (UpdateAccountResult, error) {
	if err := u.validate(); err != nil {
		return UpdateAccountResult{}, err
	}
	if u.Plan != nil {
		if _, err := s.Plan(ctx, *u.Plan); err != nil {
			if ErrorCode(err) == ENotFound {
				return UpdateAccountResult{}, FieldError("plan", "No plan %q.", *u.Plan)
			}
			return UpdateAccountResult{}, err
		}
	}
	hash := u.hash()
	var res UpdateAccountResult
	err := s.store.InTx(ctx, func(tx Tx) error {
		b, err := loadBook(ctx, tx, s.Now(), []string{u.AccountID})
		if err != nil {
			return err
		}
		st, err := b.account(u.AccountID)
		if err != nil {
			return err
		}
		prev, err := replayed(ctx, tx, u.Op, u.AccountID, AuditAccountUpdate, hash)
		if err != nil {
			return err
		}
		if prev != nil {
			res = UpdateAccountResult{Account: st.acc, Replayed: true}
			return nil
		}
		if u.Scope == ScopeAccountKey && u.Status != nil && st.acc.Status == StatusSuspended {
			return Errorf(EAccountSuspended, "This account is suspended by the operator: %s", st.acc.StatusReason)
		}
		if u.Scope == ScopeAccountKey && u.Status != nil && st.acc.NeedsVerification() {
			return VerificationError() // pausing and resuming would otherwise clear the requirement
		}
		before := SettingsOf(st.acc)
		after := u.apply(before)
		if avail := b.available(st); avail < -after.OverdraftLimit {
			return FieldError("overdraft_limit", "The account is %s credits below zero; the limit cannot be lower than that.", (-avail).Display())
		}
		if err := b.flush(ctx, tx); err != nil { // the expiry sweep, if loading found any
			return err
		}
		if err := tx.SetAccountSettings(ctx, u.AccountID, after); err != nil {
			return err
		}
		res.Account = withSettings(st.acc, after)
		return s.audit(ctx, tx, u.Op, AuditAccountUpdate, u.AccountID, hash, before, after)
	})
	if err == nil {
		s.forgetAccount(u.AccountID)
	}
	return res, err
}

func withSettings(a Account, s AccountSettings) Account {
	a.Name, a.Email, a.PlanKey, a.Status, a.StatusReason = s.Name, s.Email, s.Plan, s.Status, s.StatusReason
	a.OverdraftLimit, a.SpendLimit, a.SpendLimitMode = s.OverdraftLimit, s.SpendLimit, s.SpendLimitMode
	return a
}

// AuditedGrant grants credits (GrantInput as Grant takes it) and records an audit entry in
// the same transaction; a replayed grant writes none. The grant's reason is the audit's.
// Errors: as Grant.
func (s *Service) AuditedGrant(ctx context.Context, in GrantInput, op Op) (GrantResult, error) {
	if in.Actor == "" {
		in.Actor = op.Actor.String()
	}
	op.Reason, op.IdempotencyKey = in.Reason, "" // the grant keeps its own key
	var res GrantResult
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if res, err = s.grantTx(ctx, tx, in); err != nil || res.Replayed {
			return err
		}
		return s.audit(ctx, tx, op, AuditGrant, in.AccountID, "", nil, snapshotGrant(res.Grant))
	})
	return res, err
}

// AuditDiff lists the fields an entry's before and after disagree on, for people to read:
// "plan: free → pro". Entries without both sides give nil.
func AuditDiff(e AuditEntry) []string {
	if len(e.Before) == 0 || len(e.After) == 0 {
		return nil
	}
	var b, a map[string]any
	if json.Unmarshal(e.Before, &b) != nil || json.Unmarshal(e.After, &a) != nil {
		return nil
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(a)) {
		bv, av := fmt.Sprint(b[k]), fmt.Sprint(a[k])
		if bv != av {
			out = append(out, fmt.Sprintf("%s: %s → %s", k, show(b[k]), show(a[k])))
		}
	}
	return out
}

func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "none"
	case map[string]any:
		if r, ok := x["remaining"]; ok {
			return fmt.Sprintf("%v left", r)
		}
		j, _ := json.Marshal(x)
		return string(j)
	}
	return fmt.Sprint(v)
}

// PreviewGrant checks a console grant (an adjustment or a promo, with a required reason)
// for the confirmation step, writing nothing. Errors: invalid_request.
func (s *Service) PreviewGrant(in GrantInput, op Op) error {
	var v Validation
	op.validate(&v)
	if in.Source != "adjustment" && in.Source != "promo" {
		v.Add("source", "Choose adjustment or promo.")
	}
	if in.Amount > MaxOperatorCredits {
		v.Add("credits", "Must be at most %s.", MaxOperatorCredits.Display())
	}
	if err := v.Err(); err != nil {
		return err
	}
	in.Reason = op.Reason
	return in.validate(s.Now())
}

// AdminGrant is a grant made in the console (see PreviewGrant), audited; IdempotencyKey
// (the form's) makes a double submit one grant.
// Errors: invalid_request, not_found, idempotency_conflict.
func (s *Service) AdminGrant(ctx context.Context, in GrantInput, op Op) (GrantResult, error) {
	if err := s.PreviewGrant(in, op); err != nil {
		return GrantResult{}, err
	}
	in.Reason, in.Actor = strings.TrimSpace(op.Reason), op.Actor.String()
	return s.AuditedGrant(ctx, in, op)
}

// VerificationPending is the status_reason of an active account whose usage waits until its
// owner confirms their email or saves a card: a field the account cache already carries, so
// the usage check is one comparison.
const VerificationPending = "verification_required"

// NeedsVerification reports whether usage waits for the owner's verification.
func (a Account) NeedsVerification() bool {
	return a.Status == StatusActive && a.StatusReason == VerificationPending
}

// VerificationError is the refusal of usage while verification is pending.
func VerificationError() error {
	return &Error{Code: EVerificationRequired, Message: "This account must be verified before usage resumes: " +
		"its owner confirms their email address or saves a card on the Billing page."}
}
