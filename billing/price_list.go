package billing

import (
	"context"
	"slices"
	"sort"
)

// PriceList is the customer's prices page: the live catalog with every rate scaled by the
// account's plan multiplier, the time-of-day schedule when it is on, and the batch factor.
type PriceList struct {
	Plan    Plan
	Version int
	Actions []CatalogAction
	// Schedule is shown when Enabled; ActiveWindow names the window in force now ("" none).
	Schedule     Schedule
	ActiveWindow string
	// Batch is the batch multiplier when the plan has the batch entitlement (0 otherwise).
	Batch Multiplier
	// Estimator lists, per action, the attribute choices the estimator offers.
	Estimator []EstimatorAction
	// Labels name, by rate id, the quantity each of the rate's Prices lines is for ("" for a
	// per-call price or a minimum), so "2.25 per 1k tokens" can read "input tokens".
	Labels map[string][]string
}

// EstimatorAction is one action as the estimator form offers it.
type EstimatorAction struct {
	Key        string
	Name       string
	Quantities []string
	Attributes []EstimatorAttribute // only attributes with a choice to make
}

// EstimatorAttribute is a select: its values from the rates; Optional when a rate prices the
// action without it (the "standard" choice). Premium values need the premium_models entitlement.
type EstimatorAttribute struct {
	Name     string
	Values   []string
	Optional bool
	Premium  map[string]bool
}

// Action returns the estimator entry for key, or the first action when key is unknown.
func (p PriceList) Action(key string) (EstimatorAction, bool) {
	for _, a := range p.Estimator {
		if a.Key == key {
			return a, true
		}
	}
	if len(p.Estimator) > 0 {
		return p.Estimator[0], false
	}
	return EstimatorAction{}, false
}

// PriceList reads the prices in effect now for the account's plan. Errors: not_found (no
// price book yet, unknown plan).
func (s *Service) PriceList(ctx context.Context, acc Account) (PriceList, error) {
	now := s.Now()
	plan, err := s.AccountPlan(ctx, acc)
	if err != nil {
		return PriceList{}, err
	}
	b, err := s.live.Current(now)
	if err != nil {
		return PriceList{}, err
	}
	d := b.Data()
	p := PriceList{Plan: plan, Version: b.Version(), Actions: b.Catalog(plan.Multiplier), Schedule: d.Schedule,
		ActiveWindow: b.WindowAt(now)}
	if plan.Entitlements.Batch {
		p.Batch = d.BatchMultiplier.Or1()
	}
	p.Estimator = estimatorActions(d)
	p.Labels = priceLabels(d.Rates)
	return p, nil
}

// priceLabels follows catalogRate's order: the flat price, each component's tiers, the minimum.
func priceLabels(rates []Rate) map[string][]string {
	out := make(map[string][]string, len(rates))
	for _, r := range rates {
		var ls []string
		if r.Flat > 0 {
			ls = append(ls, "")
		}
		for _, c := range r.Components {
			for range max(len(c.Tiers), 1) {
				ls = append(ls, c.Quantity)
			}
		}
		if r.Minimum > 0 {
			ls = append(ls, "")
		}
		out[r.ID] = ls
	}
	return out
}

func estimatorActions(d BookData) []EstimatorAction {
	out := make([]EstimatorAction, 0, len(d.Actions))
	for _, a := range d.Actions {
		ea := EstimatorAction{Key: a.Key, Name: a.Name, Quantities: slices.Clone(a.Quantities)}
		for _, attr := range a.Attributes {
			at := EstimatorAttribute{Name: attr, Premium: map[string]bool{}}
			for _, r := range d.Rates {
				if r.Action != a.Key {
					continue
				}
				v, ok := r.Match[attr]
				if !ok {
					at.Optional = true
					continue
				}
				if !slices.Contains(at.Values, v) {
					at.Values = append(at.Values, v)
				}
				if r.Premium {
					at.Premium[v] = true
				}
			}
			if len(at.Values) > 0 {
				ea.Attributes = append(ea.Attributes, at)
			}
		}
		out = append(out, ea)
	}
	return out
}

// PageEstimate is an estimate with how many such actions the available balance covers.
type PageEstimate struct {
	EstimateResult
	Available Credits
	Covers    int64
	Free      bool // the action costs nothing
}

// EstimateCovers prices an action for the account as Estimate does (never charging) and says
// how many of them the available balance pays for.
// Errors: not_found, unknown_action, invalid_request.
func (s *Service) EstimateCovers(ctx context.Context, accountID, action string, qs map[string]Quantity, attrs map[string]string) (PageEstimate, error) {
	e, err := s.Estimate(ctx, accountID, action, qs, attrs, false)
	if err != nil {
		return PageEstimate{}, err
	}
	pe := PageEstimate{EstimateResult: e, Available: e.AvailableAfter + e.Quote.Credits}
	pe.Covers, pe.Free = Covers(pe.Available, e.Quote.Credits)
	return pe, nil
}

// PlansWith lists the active plans that include a feature (e.g. api_access), in plan order.
func (s *Service) PlansWith(ctx context.Context, feature string) ([]Plan, error) {
	ps, err := s.store.ListPlans(ctx, false)
	if err != nil {
		return nil, err
	}
	var out []Plan
	for _, p := range ps {
		if p.Entitlements.Has(feature) {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].SortOrder < out[j].SortOrder })
	return out, nil
}
