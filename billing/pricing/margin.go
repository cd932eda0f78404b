package pricing

import (
	"maps"
	"math/big"
	"slices"
	"time"

	"creditline/billing/value"
)

// typicalAt is a fixed Wednesday noon UTC: a typical request is priced outside every
// demo schedule window, so the figures compare rates and not the time of day.
var typicalAt = time.Date(2025, 3, 5, 12, 0, 0, 0, time.UTC)

// TypicalRequest is one block of every quantity the rate prices (1,000 tokens, one image,
// one second), with the attributes the rate matches, at list price (no plan, no batch).
func TypicalRequest(r Rate) Request {
	qs := make(map[string]value.Quantity, len(r.Components))
	for _, c := range r.Components {
		qs[c.Quantity] = value.Count(max(c.Per, 1))
	}
	return Request{Action: r.Action, Quantities: qs, Attributes: maps.Clone(r.Match), At: typicalAt}
}

// Typical prices TypicalRequest(rate) with b; ok is false when b has no such rate or the
// request does not reach it (another rate wins, or the rate cannot price).
func (b *Book) Typical(rateID string) (Quote, bool) {
	i := slices.IndexFunc(b.data.Rates, func(r Rate) bool { return r.ID == rateID })
	if i < 0 {
		return Quote{}, false
	}
	q, err := b.Price(TypicalRequest(b.data.Rates[i]))
	if err != nil || q.RateID != rateID {
		return Quote{}, false
	}
	return q, true
}

// MarginTarget is the operator's floor on gross margin: a rate is flagged when a typical
// request's credits, valued at CreditMicroUSD each, bring in less than cost / (1 − Percent%).
type MarginTarget struct {
	Percent        int   `json:"percent"`                // 0..95
	CreditMicroUSD int64 `json:"credit_value_micro_usd"` // what one credit is worth
}

// DefaultMarginTarget is 40% with a credit worth $0.10 (the Starter pack's list price).
var DefaultMarginTarget = MarginTarget{Percent: 40, CreditMicroUSD: 100_000}

// Check returns invalid_request naming percent or credit_value_micro_usd when out of bounds.
func (m MarginTarget) Check() error {
	var v value.Validation
	if m.Percent < 0 || m.Percent > 95 {
		v.Add("percent", "must be a whole number from 0 to 95")
	}
	if m.CreditMicroUSD < 1 || m.CreditMicroUSD > 1_000_000_000 {
		v.Add("credit_value_micro_usd", "must be from 1 to 1,000,000,000 micro-dollars")
	}
	return v.Err()
}

// MarginWarning is one rate priced below the target: its typical request's credits,
// the revenue they bring and the vendor cost, both in micro-dollars.
type MarginWarning struct {
	RateID          string        `json:"rate_id"`
	Credits         value.Credits `json:"credits"`
	RevenueMicroUSD int64         `json:"revenue_micro_usd"`
	CostMicroUSD    int64         `json:"cost_micro_usd"`
	MarginPermille  int64         `json:"margin_permille"` // gross margin, in tenths of a percent
	TargetPercent   int           `json:"target_percent"`
}

// MarginWarnings lists every rate of b whose typical request falls below target, in rate order.
func (b *Book) MarginWarnings(target MarginTarget) []MarginWarning {
	var out []MarginWarning
	for _, r := range b.data.Rates {
		q, ok := b.Typical(r.ID)
		if !ok || q.VendorCostMicroUSD <= 0 {
			continue
		}
		rev := creditsMicroUSD(q.Credits, target.CreditMicroUSD)
		if BelowTarget(rev, q.VendorCostMicroUSD, target.Percent) {
			out = append(out, MarginWarning{RateID: r.ID, Credits: q.Credits, RevenueMicroUSD: rev,
				CostMicroUSD: q.VendorCostMicroUSD, MarginPermille: MarginPermille(rev, q.VendorCostMicroUSD), TargetPercent: target.Percent})
		}
	}
	return out
}

// BelowTarget reports (rev − cost) / rev < percent / 100, exactly; no revenue with a
// cost is always below.
func BelowTarget(rev, cost int64, percent int) bool {
	if cost <= 0 {
		return false
	}
	if rev <= 0 {
		return true
	}
	l := new(big.Int).Mul(big.NewInt(rev-cost), big.NewInt(100))
	r := new(big.Int).Mul(big.NewInt(rev), big.NewInt(int64(percent)))
	return l.Cmp(r) < 0
}

// MarginPermille is (rev − cost) / rev in tenths of a percent, truncated; 0 without revenue.
func MarginPermille(rev, cost int64) int64 {
	if rev <= 0 {
		return 0
	}
	n := new(big.Int).Mul(big.NewInt(rev-cost), big.NewInt(1000))
	return n.Quo(n, big.NewInt(rev)).Int64()
}

// creditsMicroUSD values millicredits c at perCredit micro-dollars a credit, rounded down.
func creditsMicroUSD(c value.Credits, perCredit int64) int64 {
	n := new(big.Int).Mul(big.NewInt(int64(c)), big.NewInt(perCredit))
	n.Quo(n, big.NewInt(1000))
	if !n.IsInt64() {
		return 0
	}
	return n.Int64()
}

// CreditsMicroUSD values millicredits at perCredit micro-dollars a credit, rounded down.
func CreditsMicroUSD(c value.Credits, perCredit int64) int64 { return creditsMicroUSD(c, perCredit) }

// RateImpact is one rate's typical request priced by the live book and by the draft;
// Before/After are absent (Has* false) where that book has no such rate.
type RateImpact struct {
	RateID    string        `json:"rate_id"`
	Action    string        `json:"action"`
	Match     string        `json:"match,omitempty"`
	HasBefore bool          `json:"has_before"`
	Before    value.Credits `json:"before"`
	HasAfter  bool          `json:"has_after"`
	After     value.Credits `json:"after"`
}

// Changed is true when the typical request costs something else (or exists on one side only).
func (r RateImpact) Changed() bool { return r.HasBefore != r.HasAfter || r.Before != r.After }

// TypicalImpact prices each rate of either book with both, rates of draft first in its order.
func TypicalImpact(live, draft *Book) []RateImpact {
	var out []RateImpact
	seen := map[string]bool{}
	add := func(r Rate) {
		if seen[r.ID] {
			return
		}
		seen[r.ID] = true
		ri := RateImpact{RateID: r.ID, Action: r.Action, Match: matchText(r.Match)}
		if live != nil {
			if q, ok := live.Typical(r.ID); ok {
				ri.HasBefore, ri.Before = true, q.Credits
			}
		}
		if draft != nil {
			if q, ok := draft.Typical(r.ID); ok {
				ri.HasAfter, ri.After = true, q.Credits
			}
		}
		out = append(out, ri)
	}
	if draft != nil {
		for _, r := range draft.data.Rates {
			add(r)
		}
	}
	if live != nil {
		for _, r := range live.data.Rates {
			add(r)
		}
	}
	return out
}

// Renumbered returns a copy of the draft as version v (a draft takes its number when it is
// published). Errors: conflict on a published book; invalid_request when v < 1.
func (b *Book) Renumbered(v int) (*Book, error) {
	if err := b.CheckDraft(); err != nil {
		return nil, err
	}
	if v < 1 {
		return nil, value.FieldError("version", "must be 1 or more")
	}
	d := b.data.clone()
	d.Version = v
	return &Book{data: d, idx: buildIndex(&d)}, nil
}
