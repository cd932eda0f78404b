// Package pricing is the pricing engine: the price book (its data, validation and diff), the
// index compiled from it, the exact maths, the catalog and the live set of published books.
// It imports only billing/value; the draft and publish transaction lives in billing.
package pricing

import (
	"encoding/json"
	"strings"
	"time"

	"creditline/billing/value"
)

// The pricing engine. Contract, in short:
//   - Quantities are fixed-point thousandths (Quantity). Counts (tokens, images,
//     steps, words) must be whole; megabytes, seconds and megapixels take up to
//     3 decimals. Negative or fractional counts are invalid_request on the field.
//   - A component charges quantity × price / block, pro rata; graduated tiers
//     charge each slice at its own price. Minimum floors the base price.
//   - Multipliers (plan, rate feature, schedule window, batch) are exact
//     ten-thousandths applied in that order to the exact base; the result is
//     rounded half up to 0.001 credit once, at the end. No float anywhere.
//   - The schedule window is chosen by the UTC weekday and hour of At; windows
//     never overlap and never cross midnight.

// Request is one action to price. The estimate and the charge build the
// same request and call the same Price, so they cannot disagree.
type Request struct {
	Action string
	// Quantities in thousandths of a unit (see Quantity); every quantity the matched rate
	// prices is required (invalid_request on quantities.<name> when left out).
	Quantities map[string]value.Quantity
	Attributes map[string]string
	// Plan names the account's plan in the breakdown; PlanMultiplier zero means ×1.
	Plan           string
	PlanMultiplier value.Multiplier
	Batch          bool
	// At is when the action happened; it picks the schedule window (UTC).
	At time.Time
}

// Quote is the price of one action.
type Quote struct {
	Action             string        `json:"action"`
	Credits            value.Credits `json:"credits"`
	VendorCostMicroUSD int64         `json:"vendor_cost_micro_usd"`
	PriceVersion       int           `json:"price_version"`
	RateID             string        `json:"rate_id"`
	Premium            bool          `json:"premium"` // needs the premium_models entitlement
	Breakdown          Breakdown     `json:"breakdown"`
}

// Breakdown explains a quote. Component lines and the subtotal are each rounded
// for display; Total is the exact sum times every multiplier, rounded once, so the
// lines may differ from the total in the last digit.
type Breakdown struct {
	Components  []ComponentLine  `json:"components"`
	Minimum     value.Credits    `json:"minimum,omitempty"` // set when the rate's minimum raised the subtotal
	Subtotal    value.Credits    `json:"subtotal"`
	Multipliers []MultiplierLine `json:"multipliers"` // in the order applied; ×1 factors are left out
	Total       value.Credits    `json:"total"`
}

// ComponentLine is one priced part: "input_tokens 1000 × 2.5 per 1k tokens = 2.5".
type ComponentLine struct {
	Name     string         `json:"name"`
	Quantity value.Quantity `json:"quantity"`
	UnitRate string         `json:"unit_rate"`
	Credits  value.Credits  `json:"credits"`
}

// MultiplierLine is one factor applied to the subtotal: Name "plan", Label "pro",
// Factor 0.9 reads "plan pro ×0.9". JSON carries that reading as "text".
type MultiplierLine struct {
	Name   string           `json:"name"` // plan, feature, schedule or batch
	Label  string           `json:"label,omitempty"`
	Factor value.Multiplier `json:"factor"`
}

// Text reads "plan pro ×0.9", "feature style=creative ×1.5", "batch ×0.8".
func (m MultiplierLine) Text() string {
	name := m.Name
	if m.Label != "" {
		name += " " + m.Label
	}
	return name + " ×" + m.Factor.String()
}

// MarshalJSON adds the "text" reading; decoding ignores it.
func (m MultiplierLine) MarshalJSON() ([]byte, error) {
	type plain MultiplierLine
	return json.Marshal(struct {
		plain
		Text string `json:"text"`
	}{plain(m), m.Text()})
}

// Price prices req with this book.
// Errors: unknown_action for an action not in the catalog; invalid_request naming
// the field (attributes.x, quantities.x) for an attribute or quantity the action
// does not take, a negative amount, a fractional count, more than MaxQuantity, a quantity the
// matched rate prices left out, attribute values no rate matches (the message lists the
// accepted values), or a price above MaxCredits.
func (b *Book) Price(req Request) (Quote, error) {
	if b == nil || b.idx == nil {
		return Quote{}, value.Errorf(value.EInternal, "no price book loaded")
	}
	a := b.idx.actions[req.Action]
	if a == nil {
		return Quote{}, b.idx.unknownAction(req.Action)
	}
	if req.At.IsZero() {
		return Quote{}, value.FieldError("at", "is required to price an action")
	}
	if err := a.check(&req); err != nil {
		return Quote{}, err
	}
	r := a.match(req.Attributes)
	if r == nil {
		return Quote{}, a.noMatch(req.Attributes)
	}
	if r.broken != "" {
		return Quote{}, value.Errorf(value.EInvalid, "Rate %s cannot price: %s", r.id, r.broken)
	}
	if err := r.requireQuantities(req.Quantities); err != nil {
		return Quote{}, err
	}
	return b.idx.quote(a.key, r, &req)
}

func (ix *index) quote(action string, r *cRate, req *Request) (Quote, error) {
	q := Quote{Action: action, PriceVersion: ix.version, RateID: r.id, Premium: r.premium}
	bd := &q.Breakdown
	bd.Components = make([]ComponentLine, 0, r.lines)
	total, cost := newExact(), newExact()
	if r.flat > 0 {
		total.addProduct(r.flat, 1, 1)
		bd.Components = append(bd.Components, ComponentLine{Name: "call", Quantity: 1000, UnitRate: r.flatText, Credits: value.Credits(r.flat)})
	}
	cost.addProduct(r.flatCost, 1, 1)
	for i := range r.comps {
		c := &r.comps[i]
		n := uint64(max(req.Quantities[c.qty], 0))
		cost.addProduct(n, c.cost, c.den)
		bd.Components = c.price(n, &total, bd.Components)
	}
	if total.atLeast(r.min) {
		bd.Minimum = value.Credits(r.min)
	}
	sub, _ := total.round()
	bd.Subtotal = value.Credits(sub)
	bd.Multipliers = ix.multipliers(r, req, &total)
	credits, ok := total.round()
	vendor, ok2 := cost.round()
	if !ok || !ok2 || value.Credits(credits) > value.MaxCredits {
		return Quote{}, value.FieldError("quantities", "price to more than 1,000,000,000,000 credits: split the work into smaller requests")
	}
	q.Credits, bd.Total, q.VendorCostMicroUSD = value.Credits(credits), value.Credits(credits), vendor
	return q, nil
}

// price adds the graduated tiers of one component for n thousandths of a unit.
func (c *cComp) price(n uint64, total *exact, lines []ComponentLine) []ComponentLine {
	var prev uint64
	for j := range c.tiers {
		t := &c.tiers[j]
		if j > 0 && n <= prev {
			break
		}
		part := min(n, t.upTo) - prev
		one := newExact()
		one.addProduct(part, t.price, c.den)
		total.add(&one)
		cr, _ := one.round()
		lines = append(lines, ComponentLine{Name: c.qty, Quantity: value.Quantity(part), UnitRate: t.text, Credits: value.Credits(cr)})
		prev = t.upTo
	}
	return lines
}

// multipliers applies plan, feature, schedule and batch to total, in that order.
func (ix *index) multipliers(r *cRate, req *Request, total *exact) []MultiplierLine {
	out := make([]MultiplierLine, 0, 4)
	if m := req.PlanMultiplier.Or1(); m != value.MultiplierOne {
		out = append(out, MultiplierLine{Name: "plan", Label: req.Plan, Factor: m})
	}
	if r.feature.Factor != 0 {
		out = append(out, r.feature)
	}
	if w := ix.window(req.At); w != nil && w.line.Factor != value.MultiplierOne {
		out = append(out, w.line)
	}
	if req.Batch && ix.batch.Factor != 0 {
		out = append(out, ix.batch)
	}
	for _, l := range out {
		total.mul(uint64(l.Factor), uint64(value.MultiplierOne))
	}
	return out
}

// window returns the schedule window in force at t (UTC), or nil.
func (ix *index) window(t time.Time) *cWindow {
	if len(ix.windows) == 0 {
		return nil
	}
	t = t.UTC()
	day, hour := t.Weekday(), t.Hour()
	for i := range ix.windows {
		w := &ix.windows[i]
		if w.days&(1<<day) != 0 && hour >= w.from && hour < w.to {
			return w
		}
	}
	return nil
}

// Lines renders the breakdown for people, one line per component and multiplier.
func (b Breakdown) Lines() []string {
	out := make([]string, 0, len(b.Components)+len(b.Multipliers)+3)
	for _, c := range b.Components {
		out = append(out, c.Name+" "+c.Quantity.String()+" × "+c.UnitRate+" = "+c.Credits.String())
	}
	if b.Minimum > 0 {
		out = append(out, "minimum charge "+b.Minimum.String())
	}
	out = append(out, "subtotal "+b.Subtotal.String())
	for _, m := range b.Multipliers {
		out = append(out, m.Text())
	}
	return append(out, "total "+b.Total.String())
}

func (b Breakdown) String() string { return strings.Join(b.Lines(), "\n") }
