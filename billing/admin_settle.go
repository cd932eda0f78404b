package billing

import (
	"context"
	"strings"
)

// AuditSettleDebt is the audit action of a recorded payment that repays an overdraft.
const AuditSettleDebt = "debt.settle"

// SettleDebtInput records an invoiced payment (money received outside Stripe) that repays
// the overdraft drawn: an adjustment grant of Credits carrying the paid amount, which a
// grant repays the debt from first (addGrant).
type SettleDebtInput struct {
	AccountID string
	// Credits defaults to the whole debt; less than the debt is refused (this is a true-up:
	// the balance comes back to >= 0); more leaves the rest as usable credits.
	Credits    *Credits
	PaidAmount int64 // minor units of Currency
	Currency   string
	// Reference is the invoice or bank transfer it records (optional, kept in the reason).
	Reference string
	Op        Op
}

// SettlePreview is what a settle would do.
type SettlePreview struct {
	Debt, Credits, BalanceAfter Credits
}

// PreviewSettleDebt checks a settle against the account's debt now, writing nothing.
// Errors: invalid_request (fields, no debt), not_found.
func (s *Service) PreviewSettleDebt(ctx context.Context, in SettleDebtInput) (SettlePreview, error) {
	if err := in.validate(); err != nil {
		return SettlePreview{}, err
	}
	acc, err := s.store.AccountByID(ctx, in.AccountID)
	if err != nil {
		return SettlePreview{}, err
	}
	return in.against(acc)
}

func (in *SettleDebtInput) validate() error {
	var v Validation
	in.Op.validate(&v)
	in.Currency = strings.ToLower(strings.TrimSpace(in.Currency))
	in.Reference = strings.TrimSpace(in.Reference)
	if in.PaidAmount <= 0 {
		v.Add("paid_amount", "Enter the amount received, e.g. 250.00.")
	}
	if len(in.Currency) != 3 || strings.Trim(in.Currency, "abcdefghijklmnopqrstuvwxyz") != "" {
		v.Add("currency", "Use a three-letter currency code such as usd.")
	}
	if len(in.Reference) > 100 {
		v.Add("reference", "Use at most 100 characters.")
	}
	if in.Credits != nil && (*in.Credits <= 0 || *in.Credits > MaxOperatorCredits) {
		v.Add("credits", "Must be more than 0 and at most %s.", MaxOperatorCredits.Display())
	}
	return v.Err()
}

func (in SettleDebtInput) against(acc Account) (SettlePreview, error) {
	p := SettlePreview{Debt: acc.Debt, Credits: acc.Debt}
	if acc.Debt <= 0 {
		return p, FieldError("credits", "This account has no overdraft debt to settle.")
	}
	if in.Credits != nil {
		p.Credits = *in.Credits
	}
	if p.Credits < acc.Debt {
		return p, FieldError("credits", "Settling must cover the whole debt of %s credits; record a smaller payment as a grant.", acc.Debt.Display())
	}
	p.BalanceAfter = acc.Balance + p.Credits
	return p, nil
}

func (in SettleDebtInput) reason() string {
	if in.Reference == "" {
		return in.Op.Reason
	}
	return in.Op.Reason + " (ref " + in.Reference + ")"
}

// SettleDebt records the payment as an adjustment grant (the paid amount and currency on it)
// that repays the debt, with one audit entry holding debt and balance before and after. The
// form's IdempotencyKey makes a double submit one settle (a replay returns the first grant).
// Errors: invalid_request (fields, no debt, less than the debt), not_found, idempotency_conflict.
func (s *Service) SettleDebt(ctx context.Context, in SettleDebtInput) (GrantResult, error) {
	if err := in.validate(); err != nil {
		return GrantResult{}, err
	}
	if in.Op.IdempotencyKey == "" {
		return GrantResult{}, FieldError("idempotency_key", "The form is missing its key; reload the page.")
	}
	acc, err := s.store.AccountByID(ctx, in.AccountID)
	if err != nil {
		return GrantResult{}, err
	}
	g := GrantInput{AccountID: in.AccountID, Source: "adjustment", PaidAmount: in.PaidAmount, Currency: in.Currency,
		IdempotencyKey: "settle:" + in.Op.IdempotencyKey, Actor: in.Op.Actor.String(), Reason: in.reason()}
	op := in.Op
	op.Reason, op.IdempotencyKey = g.Reason, "" // the grant keeps the key
	var res GrantResult
	err = s.store.InTx(ctx, func(tx Tx) error {
		if prev, err := tx.GrantByKey(ctx, in.AccountID, g.IdempotencyKey); err == nil {
			g.Amount = prev.Amount // a replay: grantTx compares the rest and returns it
		} else if ErrorCode(err) != ENotFound {
			return err
		} else {
			p, err := in.against(acc)
			if err != nil {
				return err
			}
			g.Amount = p.Credits
		}
		if res, err = s.grantTx(ctx, tx, g); err != nil || res.Replayed {
			return err
		}
		repaid := res.Grant.Amount - res.Grant.Remaining
		before := map[string]any{"debt": acc.Debt, "balance": acc.Balance}
		after := map[string]any{"debt": acc.Debt - repaid, "balance": acc.Balance + res.Grant.Amount, "grant": res.Grant.ID,
			"credits": res.Grant.Amount, "paid_amount": in.PaidAmount, "currency": in.Currency}
		return s.audit(ctx, tx, op, AuditSettleDebt, in.AccountID, "", before, after)
	})
	return res, err
}
