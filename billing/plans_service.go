package billing

import (
	"context"
	"slices"
)

// PlanStore reads plans and packs, ordered by sort order, then key.
type PlanStore interface {
	// ListPlans returns the active plans, and the inactive ones too when includeInactive.
	ListPlans(ctx context.Context, includeInactive bool) ([]Plan, error)
	// PlanByKey returns a plan, active or not. Errors: not_found.
	PlanByKey(ctx context.Context, key string) (Plan, error)
	// ListPacks returns the active packs, and the inactive ones too when includeInactive.
	ListPacks(ctx context.Context, includeInactive bool) ([]Pack, error)
	// PackByKey returns a pack, active or not. Errors: not_found.
	PackByKey(ctx context.Context, key string) (Pack, error)
}

// PlanTx writes plans and packs. Neither is ever deleted: accounts and grants name them.
type PlanTx interface {
	// UpsertPlan creates or replaces the plan with p.Key; an identical plan is left untouched.
	UpsertPlan(ctx context.Context, p Plan) error
	// UpsertPack creates or replaces the pack with p.Key; an identical pack is left untouched.
	UpsertPack(ctx context.Context, p Pack) error
}

// Plans lists the active plans, the ones customers may choose.
func (s *Service) Plans(ctx context.Context) ([]Plan, error) { return s.store.ListPlans(ctx, false) }

// AllPlans lists every plan, retired ones included (admin console).
func (s *Service) AllPlans(ctx context.Context) ([]Plan, error) { return s.store.ListPlans(ctx, true) }

// Plan returns a plan by key, active or not, read from the store: what checkouts,
// subscriptions and plan changes use. Errors: not_found.
func (s *Service) Plan(ctx context.Context, key string) (Plan, error) {
	p, err := s.store.PlanByKey(ctx, key)
	if ErrorCode(err) == ENotFound {
		return Plan{}, Errorf(ENotFound, "No plan %q.", key)
	}
	return p, err
}

// Packs lists the active packs, the ones customers may buy.
func (s *Service) Packs(ctx context.Context) ([]Pack, error) { return s.store.ListPacks(ctx, false) }

// AllPacks lists every pack, retired ones included (admin console).
func (s *Service) AllPacks(ctx context.Context) ([]Pack, error) { return s.store.ListPacks(ctx, true) }

// Pack returns a pack by key, active or not: a checkout must also check Active.
// Errors: not_found.
func (s *Service) Pack(ctx context.Context, key string) (Pack, error) {
	p, err := s.store.PackByKey(ctx, key)
	if ErrorCode(err) == ENotFound {
		return Pack{}, Errorf(ENotFound, "No pack %q.", key)
	}
	return p, err
}

// SavePlan creates or replaces a plan. Errors: invalid_request naming each bad field.
func (s *Service) SavePlan(ctx context.Context, p Plan) error {
	if err := p.Validate(); err != nil {
		return err
	}
	defer s.invalidatePlans()
	return s.store.InTx(ctx, func(tx Tx) error { return tx.UpsertPlan(ctx, p) })
}

// SavePack creates or replaces a pack. Errors: invalid_request naming each bad field.
func (s *Service) SavePack(ctx context.Context, p Pack) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error { return tx.UpsertPack(ctx, p) })
}

// SeedCatalog loads the demo catalog in one transaction: price book version 1 when no
// version is published yet, and each demo plan and pack whose key does not exist. It
// never overwrites an operator's changes, so running it again changes nothing.
// Afterwards the live book holds every published version.
func (s *Service) SeedCatalog(ctx context.Context) error {
	latest, _, err := s.store.LivePriceBookStamp(ctx)
	if err != nil {
		return err
	}
	plans, err := s.store.ListPlans(ctx, true)
	if err != nil {
		return err
	}
	packs, err := s.store.ListPacks(ctx, true)
	if err != nil {
		return err
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if latest == 0 {
			if err := tx.PublishPriceBook(ctx, SeedPriceBook(), "seed", s.Now()); err != nil {
				return err
			}
		}
		for _, p := range SeedPlans() {
			if !slices.ContainsFunc(plans, func(x Plan) bool { return x.Key == p.Key }) {
				if err := tx.UpsertPlan(ctx, p); err != nil {
					return err
				}
			}
		}
		for _, p := range SeedPacks() {
			if !slices.ContainsFunc(packs, func(x Pack) bool { return x.Key == p.Key }) {
				if err := tx.UpsertPack(ctx, p); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.LoadLiveBook(ctx)
}
