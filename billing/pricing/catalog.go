package pricing

import (
	"fmt"
	"slices"
	"strings"

	"creditline/billing/value"
)

// quantityKind describes one quantity name: its unit words and whether it is a
// count (whole numbers only) or a measured amount (up to 3 decimals).
type quantityKind struct {
	name     string
	one      string // unit for a block of 1 ("image", "MB")
	many     string // unit for larger blocks ("images", "MB")
	measured bool
}

var quantityKinds = []quantityKind{
	{"input_tokens", "token", "tokens", false},
	{"output_tokens", "token", "tokens", false},
	{"images", "image", "images", false},
	{"steps", "step", "steps", false},
	{"megapixels", "MP", "MP", true},
	{"seconds", "second", "seconds", true},
	{"megabytes", "MB", "MB", true},
	{"words", "word", "words", false},
}

var knownAttributes = []string{"model", "quality", "style", "resolution"}

// KnownQuantities lists the quantity names an action may take.
func KnownQuantities() []string {
	out := make([]string, len(quantityKinds))
	for i, k := range quantityKinds {
		out[i] = k.name
	}
	return out
}

// KnownAttributes lists the attribute names a rate may select on.
func KnownAttributes() []string { return slices.Clone(knownAttributes) }

// QuantityIsMeasured reports whether a quantity accepts decimals (megabytes,
// seconds, megapixels) rather than whole counts. Unknown names report false.
func QuantityIsMeasured(name string) bool {
	k, ok := kindOf(name)
	return ok && k.measured
}

func kindOf(name string) (quantityKind, bool) {
	for _, k := range quantityKinds {
		if k.name == name {
			return k, true
		}
	}
	return quantityKind{}, false
}

// blockText names a block of per units: "image", "1k tokens", "500 words", "MB".
func blockText(quantity string, per int64) string {
	k, ok := kindOf(quantity)
	if !ok {
		k = quantityKind{one: quantity, many: quantity}
	}
	switch {
	case per == 1:
		return k.one
	case per%1_000_000 == 0:
		return fmt.Sprintf("%dM %s", per/1_000_000, k.many)
	case per%1000 == 0:
		return fmt.Sprintf("%dk %s", per/1000, k.many)
	default:
		return fmt.Sprintf("%d %s", per, k.many)
	}
}

// amountText names an amount of units: "10 MB", "1 image", "1000 tokens".
func amountText(quantity string, q value.Quantity) string {
	k, ok := kindOf(quantity)
	if !ok {
		k = quantityKind{one: quantity, many: quantity}
	}
	if q == 1000 {
		return "1 " + k.one
	}
	return q.String() + " " + k.many
}

// tierTexts returns the readable unit rate of each tier of c:
// "2.5 per 1k tokens", or "1 per MB (first 10 MB)", "0.7 per MB (over 10 MB)".
func tierTexts(c Component) []string {
	block := blockText(c.Quantity, c.Per)
	if len(c.Tiers) == 0 {
		return []string{c.Price.String() + " per " + block}
	}
	out := make([]string, len(c.Tiers))
	var prev value.Quantity
	for i, t := range c.Tiers {
		var span string
		switch {
		case i == 0 && t.UpTo > 0:
			span = "first " + amountText(c.Quantity, t.UpTo)
		case t.UpTo == 0:
			span = "over " + amountText(c.Quantity, prev)
		default:
			span = prev.String() + "–" + amountText(c.Quantity, t.UpTo)
		}
		if len(c.Tiers) == 1 {
			out[i] = t.Price.String() + " per " + block
		} else {
			out[i] = t.Price.String() + " per " + block + " (" + span + ")"
		}
		prev = t.UpTo
	}
	return out
}

// matchText renders a rate's selector: "model=dall-e-3 quality=hd", attributes sorted.
func matchText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, " ")
}

// CatalogAction is one action with its rates as people read them, for the
// price list page and GET /api/v1/actions.
type CatalogAction struct {
	Key        string        `json:"key"`
	Name       string        `json:"name"`
	Quantities []string      `json:"quantities"`
	Attributes []string      `json:"attributes"`
	Rates      []CatalogRate `json:"rates"`
}

// CatalogRate lists a rate's prices as text ("2.25 per 1k tokens", "1 per call",
// "minimum 0.5"), with the plan and the rate's feature multiplier applied (what the customer
// pays, before a time-of-day or batch factor). Multiplier names the feature multiplier.
type CatalogRate struct {
	ID         string            `json:"id"`
	Match      map[string]string `json:"match,omitempty"`
	Premium    bool              `json:"premium"`
	Prices     []string          `json:"prices"`
	Multiplier value.Multiplier  `json:"multiplier,omitempty"`
}

// Catalog lists every action and its rates with prices scaled by a plan
// multiplier (zero means list price). Scaled unit prices are rounded half up
// to 0.001 for display only; Price never rounds before the end.
func (b *Book) Catalog(plan value.Multiplier) []CatalogAction {
	d := b.Data()
	out := make([]CatalogAction, 0, len(d.Actions))
	for _, a := range d.Actions {
		ca := CatalogAction{Key: a.Key, Name: a.Name, Quantities: nonNil(a.Quantities), Attributes: nonNil(a.Attributes), Rates: []CatalogRate{}}
		for _, r := range d.Rates {
			if r.Action == a.Key {
				ca.Rates = append(ca.Rates, catalogRate(r, plan.Or1()))
			}
		}
		out = append(out, ca)
	}
	return out
}

func catalogRate(r Rate, plan value.Multiplier) CatalogRate {
	cr := CatalogRate{ID: r.ID, Match: r.Match, Premium: r.Premium, Prices: []string{}}
	if m := r.Multiplier.Or1(); m != value.MultiplierOne {
		cr.Multiplier = m
		plan = value.Multiplier(scaled(value.Credits(plan), m)) // plan × feature, exact to 1/10000
	}
	if r.Flat > 0 {
		cr.Prices = append(cr.Prices, scaled(r.Flat, plan).String()+" per call")
	}
	for _, c := range r.Components {
		c.Price = scaled(c.Price, plan)
		c.Tiers = slices.Clone(c.Tiers)
		for i := range c.Tiers {
			c.Tiers[i].Price = scaled(c.Tiers[i].Price, plan)
		}
		cr.Prices = append(cr.Prices, tierTexts(c)...)
	}
	if r.Minimum > 0 {
		cr.Prices = append(cr.Prices, "minimum "+scaled(r.Minimum, plan).String())
	}
	return cr
}

// scaled is c × m rounded half up to a millicredit, for display.
func scaled(c value.Credits, m value.Multiplier) value.Credits {
	e := newExact()
	e.addProduct(uint64(max(c, 0)), uint64(m), uint64(value.MultiplierOne))
	v, _ := e.round()
	return value.Credits(v)
}

// nonNil makes an absent list encode as [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
