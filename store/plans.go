package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"creditline/billing"
)

var _ billing.PlanStore = (*Store)(nil)
var _ billing.PlanTx = (*tx)(nil)

const planCols = `key, name, price_monthly, price_yearly, credits_per_period, rollover_policy, rollover_cap,
	rollover_max_periods, multiplier, entitlements, active, sort_order, stripe_price_monthly, stripe_price_yearly`

// planRow is a plans row: prices and entitlements are JSON, the multiplier numeric text.
type planRow struct {
	Key                string          `db:"key"`
	Name               string          `db:"name"`
	PriceMonthly       []byte          `db:"price_monthly"`
	PriceYearly        []byte          `db:"price_yearly"`
	CreditsPerPeriod   billing.Credits `db:"credits_per_period"`
	RolloverPolicy     string          `db:"rollover_policy"`
	RolloverCap        billing.Credits `db:"rollover_cap"`
	RolloverMaxPeriods int             `db:"rollover_max_periods"`
	Multiplier         string          `db:"multiplier"`
	Entitlements       []byte          `db:"entitlements"`
	Active             bool            `db:"active"`
	SortOrder          int             `db:"sort_order"`
	StripeMonthly      []byte          `db:"stripe_price_monthly"`
	StripeYearly       []byte          `db:"stripe_price_yearly"`
}

func (r planRow) plan() (billing.Plan, error) {
	p := billing.Plan{Key: r.Key, Name: r.Name, CreditsPerPeriod: r.CreditsPerPeriod, Active: r.Active, SortOrder: r.SortOrder,
		Rollover: billing.Rollover{Policy: billing.RolloverPolicy(r.RolloverPolicy), CapCredits: r.RolloverCap, MaxPeriods: r.RolloverMaxPeriods}}
	var errM, errY error
	p.Multiplier, errM = billing.ParseMultiplier(r.Multiplier)
	if r.PriceYearly != nil {
		errY = json.Unmarshal(r.PriceYearly, &p.PriceYearly)
	}
	err := errors.Join(errM, errY, json.Unmarshal(r.PriceMonthly, &p.PriceMonthly), json.Unmarshal(r.Entitlements, &p.Entitlements),
		stripeIDs(r.StripeMonthly, &p.StripePriceMonthly), stripeIDs(r.StripeYearly, &p.StripePriceYearly))
	if err != nil {
		return billing.Plan{}, fmt.Errorf("store: plan %q: decode: %w", r.Key, err)
	}
	return p, nil
}

func (s *Store) ListPlans(ctx context.Context, includeInactive bool) ([]billing.Plan, error) {
	var rows []planRow
	err := s.db.SelectContext(ctx, &rows, `SELECT `+planCols+` FROM plans WHERE active OR $1 ORDER BY sort_order, key`, includeInactive)
	if err != nil {
		return nil, mapErr("list plans", err)
	}
	plans := make([]billing.Plan, len(rows))
	for i, r := range rows {
		if plans[i], err = r.plan(); err != nil {
			return nil, err
		}
	}
	return plans, nil
}

func (s *Store) PlanByKey(ctx context.Context, key string) (billing.Plan, error) {
	var r planRow
	if err := s.db.GetContext(ctx, &r, `SELECT `+planCols+` FROM plans WHERE key = $1`, key); err != nil {
		return billing.Plan{}, mapErr("plan by key", err)
	}
	return r.plan()
}

// UpsertPlan bumps updated_at only when something differs.
func (t *tx) UpsertPlan(ctx context.Context, p billing.Plan) error {
	monthly, err1 := json.Marshal(p.PriceMonthly)
	ents, err2 := json.Marshal(p.Entitlements)
	yearly, err3 := nullJSON(p.PriceYearly)
	sm, err4 := stripeJSON(p.StripePriceMonthly)
	sy, err5 := stripeJSON(p.StripePriceYearly)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return fmt.Errorf("store: upsert plan: %w", err)
	}
	_, err := t.tx.ExecContext(ctx, `
		INSERT INTO plans (`+planCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (key) DO UPDATE SET name = excluded.name, price_monthly = excluded.price_monthly,
			price_yearly = excluded.price_yearly, credits_per_period = excluded.credits_per_period,
			rollover_policy = excluded.rollover_policy, rollover_cap = excluded.rollover_cap,
			rollover_max_periods = excluded.rollover_max_periods, multiplier = excluded.multiplier,
			entitlements = excluded.entitlements, active = excluded.active, sort_order = excluded.sort_order,
			stripe_price_monthly = excluded.stripe_price_monthly, stripe_price_yearly = excluded.stripe_price_yearly,
			updated_at = now()
		WHERE (plans.name, plans.price_monthly, plans.price_yearly, plans.credits_per_period, plans.rollover_policy,
			plans.rollover_cap, plans.rollover_max_periods, plans.multiplier, plans.entitlements, plans.active, plans.sort_order,
			plans.stripe_price_monthly, plans.stripe_price_yearly)
			IS DISTINCT FROM (excluded.name, excluded.price_monthly, excluded.price_yearly, excluded.credits_per_period,
			excluded.rollover_policy, excluded.rollover_cap, excluded.rollover_max_periods, excluded.multiplier,
			excluded.entitlements, excluded.active, excluded.sort_order, excluded.stripe_price_monthly, excluded.stripe_price_yearly)`,
		p.Key, p.Name, string(monthly), yearly, p.CreditsPerPeriod, string(p.Rollover.Policy), p.Rollover.CapCredits,
		p.Rollover.MaxPeriods, p.Multiplier.String(), string(ents), p.Active, p.SortOrder, sm, sy)
	return mapErr("upsert plan", err)
}

// stripeJSON encodes Stripe price ids: none is an empty object, never NULL.
func stripeJSON(ids billing.StripePrices) (string, error) {
	if ids == nil {
		return "{}", nil
	}
	b, err := json.Marshal(ids)
	return string(b), err
}

// stripeIDs decodes Stripe price ids; an empty object is nil, as the domain builds it.
func stripeIDs(b []byte, out *billing.StripePrices) error {
	if err := json.Unmarshal(b, out); err != nil {
		return err
	}
	if len(*out) == 0 {
		*out = nil
	}
	return nil
}

// nullJSON encodes optional prices: nil is SQL NULL.
func nullJSON(p billing.Prices) (*string, error) {
	if p == nil {
		return nil, nil
	}
	b, err := json.Marshal(p)
	s := string(b)
	return &s, err
}

const packCols = `key, name, credits, bonus_credits, prices, expiry_months, active, sort_order, stripe_prices`

// packRow is a packs row: prices are JSON.
type packRow struct {
	Key          string          `db:"key"`
	Name         string          `db:"name"`
	Credits      billing.Credits `db:"credits"`
	BonusCredits billing.Credits `db:"bonus_credits"`
	Prices       []byte          `db:"prices"`
	ExpiryMonths *int            `db:"expiry_months"`
	Active       bool            `db:"active"`
	SortOrder    int             `db:"sort_order"`
	StripePrices []byte          `db:"stripe_prices"`
}

func (r packRow) pack() (billing.Pack, error) {
	p := billing.Pack{Key: r.Key, Name: r.Name, Credits: r.Credits, BonusCredits: r.BonusCredits,
		ExpiryMonths: r.ExpiryMonths, Active: r.Active, SortOrder: r.SortOrder}
	if err := errors.Join(json.Unmarshal(r.Prices, &p.Prices), stripeIDs(r.StripePrices, &p.StripePrices)); err != nil {
		return billing.Pack{}, fmt.Errorf("store: pack %q: decode prices: %w", r.Key, err)
	}
	return p, nil
}

func (s *Store) ListPacks(ctx context.Context, includeInactive bool) ([]billing.Pack, error) {
	var rows []packRow
	err := s.db.SelectContext(ctx, &rows, `SELECT `+packCols+` FROM packs WHERE active OR $1 ORDER BY sort_order, key`, includeInactive)
	if err != nil {
		return nil, mapErr("list packs", err)
	}
	packs := make([]billing.Pack, len(rows))
	for i, r := range rows {
		if packs[i], err = r.pack(); err != nil {
			return nil, err
		}
	}
	return packs, nil
}

func (s *Store) PackByKey(ctx context.Context, key string) (billing.Pack, error) {
	var r packRow
	if err := s.db.GetContext(ctx, &r, `SELECT `+packCols+` FROM packs WHERE key = $1`, key); err != nil {
		return billing.Pack{}, mapErr("pack by key", err)
	}
	return r.pack()
}

// UpsertPack bumps updated_at only when something differs.
func (t *tx) UpsertPack(ctx context.Context, p billing.Pack) error {
	prices, err1 := json.Marshal(p.Prices)
	ids, err2 := stripeJSON(p.StripePrices)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("store: upsert pack: %w", err)
	}
	_, err := t.tx.ExecContext(ctx, `
		INSERT INTO packs (`+packCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (key) DO UPDATE SET name = excluded.name, credits = excluded.credits,
			bonus_credits = excluded.bonus_credits, prices = excluded.prices, expiry_months = excluded.expiry_months,
			active = excluded.active, sort_order = excluded.sort_order, stripe_prices = excluded.stripe_prices, updated_at = now()
		WHERE (packs.name, packs.credits, packs.bonus_credits, packs.prices, packs.expiry_months, packs.active, packs.sort_order,
			packs.stripe_prices)
			IS DISTINCT FROM (excluded.name, excluded.credits, excluded.bonus_credits, excluded.prices,
			excluded.expiry_months, excluded.active, excluded.sort_order, excluded.stripe_prices)`,
		p.Key, p.Name, p.Credits, p.BonusCredits, string(prices), p.ExpiryMonths, p.Active, p.SortOrder, ids)
	return mapErr("upsert pack", err)
}
