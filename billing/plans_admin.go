package billing

import (
	"context"
	"slices"
)

// Audit actions of the plans and packs editor.
const (
	AuditPlanSave = "plan.save"
	AuditPackSave = "pack.save"
)

// Currencies the console offers prices in; USD is the default and always required.
var Currencies = []string{"usd", "eur", "gbp"}

// SavePlanAs creates or replaces a plan as op (a reason is required), audited with the plan
// before and after. Retiring is saving it with Active false: accounts on it keep it, its
// multiplier and entitlements (AccountPlan reads retired plans too); it is no longer offered.
// Errors: invalid_request naming each bad field.
func (s *Service) SavePlanAs(ctx context.Context, op Op, p Plan) error {
	var v Validation
	op.validate(&v)
	if err := v.Err(); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	all, err := s.store.ListPlans(ctx, true)
	if err != nil {
		return err
	}
	var before any
	if i := slices.IndexFunc(all, func(x Plan) bool { return x.Key == p.Key }); i >= 0 {
		before = all[i]
	}
	defer s.invalidatePlans()
	return s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.UpsertPlan(ctx, p); err != nil {
			return err
		}
		return s.audit(ctx, tx, op, AuditPlanSave, "", "", before, p)
	})
}

// SavePackAs creates or replaces a pack as op, audited. A retired pack (Active false) is no
// longer sold; credits bought with it stay as they are (grants never refer back to it).
// Errors: invalid_request naming each bad field.
func (s *Service) SavePackAs(ctx context.Context, op Op, p Pack) error {
	var v Validation
	op.validate(&v)
	if err := v.Err(); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	all, err := s.store.ListPacks(ctx, true)
	if err != nil {
		return err
	}
	var before any
	if i := slices.IndexFunc(all, func(x Pack) bool { return x.Key == p.Key }); i >= 0 {
		before = all[i]
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.UpsertPack(ctx, p); err != nil {
			return err
		}
		return s.audit(ctx, tx, op, AuditPackSave, "", "", before, p)
	})
}
