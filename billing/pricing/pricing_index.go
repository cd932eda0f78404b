package pricing

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"creditline/billing/value"
)

// index is a price book compiled for the hot path: rates grouped per action,
// most specific first, with every text of the breakdown prepared in advance.
type index struct {
	version    int
	actions    map[string]*cAction
	actionKeys []string
	windows    []cWindow // empty when the schedule is off
	batch      MultiplierLine
}

type cAction struct {
	key     string
	kinds   []quantityKind
	attrs   []string
	rates   []*cRate
	values  map[string][]string // attribute -> values some rate selects, sorted
	qtyList string
}

type cRate struct {
	id       string
	match    []attrValue // sorted by attribute
	flat     uint64
	flatCost uint64
	flatText string
	min      uint64
	feature  MultiplierLine
	comps    []cComp
	premium  bool
	label    string // "chat.completion model=gpt-4o", for messages
	lines    int    // most component lines a quote can have
	broken   string // why the rate cannot price, for drafts that do not validate
}

type attrValue struct{ attr, value string }

type cComp struct {
	qty   string
	den   uint64 // 1000 × block size: quantities are in thousandths
	cost  uint64
	tiers []cTier
}

type cTier struct {
	upTo  uint64 // running bound in thousandths; MaxUint64 when unbounded
	price uint64
	text  string
}

type cWindow struct {
	days     uint8 // bit n set for time.Weekday n
	from, to int
	line     MultiplierLine
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func buildIndex(d *BookData) *index {
	ix := &index{version: d.Version, actions: map[string]*cAction{}}
	for _, a := range d.Actions {
		if _, dup := ix.actions[a.Key]; dup {
			continue
		}
		ix.actions[a.Key] = compileAction(a)
		ix.actionKeys = append(ix.actionKeys, a.Key)
	}
	slices.Sort(ix.actionKeys)
	for _, r := range d.Rates {
		if a := ix.actions[r.Action]; a != nil {
			a.addRate(r, d)
		}
	}
	for _, a := range ix.actions {
		slices.SortStableFunc(a.rates, func(x, y *cRate) int {
			return cmp.Or(cmp.Compare(len(y.match), len(x.match)), cmp.Compare(x.id, y.id))
		})
		for _, vals := range a.values {
			slices.Sort(vals)
		}
	}
	if d.Schedule.Enabled {
		for _, w := range d.Schedule.Windows {
			ix.windows = append(ix.windows, compileWindow(w))
		}
	}
	if m := d.BatchMultiplier.Or1(); m != value.MultiplierOne {
		ix.batch = MultiplierLine{Name: "batch", Factor: m}
	}
	return ix
}

func compileAction(a Action) *cAction {
	ca := &cAction{key: a.Key, attrs: slices.Clone(a.Attributes), values: map[string][]string{}}
	for _, q := range a.Quantities {
		if k, ok := kindOf(q); ok {
			ca.kinds = append(ca.kinds, k)
		}
	}
	ca.qtyList = strings.Join(a.Quantities, ", ")
	if ca.qtyList == "" {
		ca.qtyList = "no quantities"
	}
	return ca
}

func (a *cAction) addRate(r Rate, d *BookData) {
	cr := &cRate{id: r.ID, premium: r.Premium, flat: uint64(max(r.Flat, 0)), min: uint64(max(r.Minimum, 0)),
		flatCost: uint64(max(r.FlatCostMicroUSD, 0))}
	cr.label = strings.TrimSpace(a.key + " " + matchText(r.Match))
	var v value.Validation
	validateRate(&v, "rate", r, d)
	if err := v.Err(); err != nil {
		cr.broken = value.ErrorMessage(err)
	}
	for k, val := range r.Match {
		cr.match = append(cr.match, attrValue{k, val})
		if !slices.Contains(a.values[k], val) {
			a.values[k] = append(a.values[k], val)
		}
	}
	slices.SortFunc(cr.match, func(x, y attrValue) int { return cmp.Compare(x.attr, y.attr) })
	if r.Flat > 0 {
		cr.flatText = r.Flat.String() + " per call"
		cr.lines++
	}
	if m := r.Multiplier.Or1(); m != value.MultiplierOne {
		cr.feature = MultiplierLine{Name: "feature", Label: matchText(r.Match), Factor: m}
	}
	if cr.broken == "" {
		for _, c := range r.Components {
			cc := compileComponent(c)
			cr.comps = append(cr.comps, cc)
			cr.lines += len(cc.tiers)
		}
	}
	a.rates = append(a.rates, cr)
}

func compileComponent(c Component) cComp {
	cc := cComp{qty: c.Quantity, den: 1000 * uint64(c.Per), cost: uint64(max(c.CostMicroUSD, 0))}
	texts := tierTexts(c)
	if len(c.Tiers) == 0 {
		cc.tiers = []cTier{{upTo: math.MaxUint64, price: uint64(c.Price), text: texts[0]}}
		return cc
	}
	for i, t := range c.Tiers {
		up := uint64(t.UpTo)
		if t.UpTo == 0 {
			up = math.MaxUint64
		}
		cc.tiers = append(cc.tiers, cTier{upTo: up, price: uint64(t.Price), text: texts[i]})
	}
	return cc
}

func compileWindow(w Window) cWindow {
	cw := cWindow{from: w.FromHour, to: w.ToHour, line: MultiplierLine{Name: "schedule", Label: w.Name, Factor: w.Multiplier.Or1()}}
	if len(w.Days) == 0 {
		cw.days = 0x7f
	}
	for _, d := range w.Days {
		if i := slices.Index(dayNames, d); i >= 0 {
			cw.days |= 1 << i
		}
	}
	return cw
}

func (a *cAction) kind(name string) (quantityKind, bool) {
	for _, k := range a.kinds {
		if k.name == name {
			return k, true
		}
	}
	return quantityKind{}, false
}

// check refuses attributes and quantities the action does not take, negative
// amounts and fractional counts, naming each field.
func (a *cAction) check(req *Request) error {
	var v value.Validation
	for k := range req.Attributes {
		if !slices.Contains(a.attrs, k) {
			v.Add("attributes."+k, "is not used by %s (it uses: %s)", a.key, orNone(a.attrs))
		}
	}
	for k, q := range req.Quantities {
		kind, ok := a.kind(k)
		switch {
		case !ok:
			v.Add("quantities."+k, "is not taken by %s (it takes: %s)", a.key, a.qtyList)
		case q < 0:
			v.Add("quantities."+k, "must not be negative")
		case q > value.MaxQuantity:
			v.Add("quantities."+k, "must be at most 1000000000000")
		case !kind.measured && !q.Whole():
			v.Add("quantities."+k, "must be a whole number of %s", kind.many)
		}
	}
	return v.Err()
}

// requireQuantities refuses a request that leaves out a quantity the matched rate prices: it
// would otherwise price as 0 and be charged 0. An explicit 0 is a quantity.
func (r *cRate) requireQuantities(qs map[string]value.Quantity) error {
	var v value.Validation
	for i := range r.comps {
		if _, ok := qs[r.comps[i].qty]; !ok {
			v.Add("quantities."+r.comps[i].qty, "required by %s", r.label)
		}
	}
	return v.Err()
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

func (a *cAction) match(attrs map[string]string) *cRate {
	for _, r := range a.rates {
		if r.matches(attrs) {
			return r
		}
	}
	return nil
}

func (r *cRate) matches(attrs map[string]string) bool {
	for _, m := range r.match {
		if attrs[m.attr] != m.value {
			return false
		}
	}
	return true
}

// noMatch explains why no rate matched: a value no rate accepts, or a missing
// attribute every rate needs, listing the accepted values.
func (a *cAction) noMatch(attrs map[string]string) error {
	var v value.Validation
	for _, attr := range a.attrs {
		vals := a.values[attr]
		if got, ok := attrs[attr]; ok && got != "" && len(vals) > 0 && !slices.Contains(vals, got) {
			v.Add("attributes."+attr, "%q is not priced for %s; accepted values: %s", got, a.key, strings.Join(vals, ", "))
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	for _, attr := range a.attrs {
		if attrs[attr] == "" && len(a.values[attr]) > 0 && a.everyRateNeeds(attr) {
			v.Add("attributes."+attr, "is required for %s; accepted values: %s", a.key, strings.Join(a.values[attr], ", "))
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	return value.FieldError("attributes", "no rate of %s matches these attributes", a.key)
}

func (a *cAction) everyRateNeeds(attr string) bool {
	for _, r := range a.rates {
		if !slices.ContainsFunc(r.match, func(m attrValue) bool { return m.attr == attr }) {
			return false
		}
	}
	return true
}

func (ix *index) unknownAction(key string) error {
	return &value.Error{Code: value.EUnknownAction, Message: fmt.Sprintf("Unknown action %q.", key),
		Details: map[string]any{"action": key, "actions": slices.Clone(ix.actionKeys)}}
}
