package pricing

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"creditline/billing/value"
)

var (
	actionKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)
	rateIDRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
)

// maxBlock bounds a component's block size (a billion units).
const maxBlock = 1_000_000_000

// maxMultiplier bounds every multiplier of a book (×100).
const maxMultiplier = 100 * value.MultiplierOne

// Validate checks the whole book. Errors: invalid_request whose Fields name each
// problem: unknown or duplicate actions, quantities and attributes; rates naming an
// unknown action, quantity or attribute; negative amounts; tiers that do not ascend;
// two rates equally specific for some request; overlapping schedule windows.
func (b *Book) Validate() error {
	d := &b.data
	var v value.Validation
	if d.Version < 1 {
		v.Add("version", "must be 1 or more")
	}
	validateActions(&v, d.Actions)
	seen := map[string]bool{}
	for i, r := range d.Rates {
		prefix := "rates." + r.ID
		switch {
		case !rateIDRE.MatchString(r.ID):
			prefix = fmt.Sprintf("rates.#%d", i)
			v.Add(prefix+".id", "must be lowercase letters, digits, '.', '-' or '_'")
		case seen[r.ID]:
			prefix = fmt.Sprintf("rates.#%d", i)
			v.Add(prefix+".id", "%q is used by another rate", r.ID)
		}
		seen[r.ID] = true
		validateRate(&v, prefix, r, d)
	}
	validateAmbiguity(&v, d.Rates)
	validateSchedule(&v, d.Schedule)
	if d.BatchMultiplier < 0 || d.BatchMultiplier > maxMultiplier {
		v.Add("batch_multiplier", "must be from 0 to 100")
	}
	return v.Err()
}

// Bounds of an action's key and display name.
const (
	maxActionKey  = 64
	maxActionName = 100
)

func validateActions(v *value.Validation, actions []Action) {
	seen := map[string]bool{}
	for i, a := range actions {
		prefix := "actions." + a.Key
		if !actionKeyRE.MatchString(a.Key) || seen[a.Key] || len(a.Key) > maxActionKey {
			prefix = fmt.Sprintf("actions.#%d", i)
			v.Add(prefix+".key", "must be unique, lowercase words joined by dots (chat.completion), at most %d characters", maxActionKey)
		}
		seen[a.Key] = true
		switch {
		case a.Name == "":
			v.Add(prefix+".name", "is required")
		case utf8.RuneCountInString(a.Name) > maxActionName:
			v.Add(prefix+".name", "must be at most %d characters", maxActionName)
		}
		checkNames(v, prefix+".quantities", a.Quantities, KnownQuantities())
		checkNames(v, prefix+".attributes", a.Attributes, knownAttributes)
	}
}

func checkNames(v *value.Validation, field string, names, known []string) {
	for i, n := range names {
		switch {
		case !slices.Contains(known, n):
			v.Add(field, "%q is not one of: %s", n, orNone(known))
		case slices.Index(names, n) != i:
			v.Add(field, "%q is listed twice", n)
		}
	}
}

func findAction(d *BookData, key string) *Action {
	for i := range d.Actions {
		if d.Actions[i].Key == key {
			return &d.Actions[i]
		}
	}
	return nil
}

// validateRate checks one rate against its action; prefix names its fields.
func validateRate(v *value.Validation, prefix string, r Rate, d *BookData) {
	a := findAction(d, r.Action)
	if a == nil {
		v.Add(prefix+".action", "%q is not an action of this price book", r.Action)
		return
	}
	for _, k := range slices.Sorted(maps.Keys(r.Match)) {
		switch {
		case !slices.Contains(a.Attributes, k):
			v.Add(prefix+".match."+k, "%s does not use attribute %q (it uses: %s)", a.Key, k, orNone(a.Attributes))
		case r.Match[k] == "":
			v.Add(prefix+".match."+k, "must not be empty")
		}
	}
	// Each amount named on its own, so an editor shows the problem beside its field.
	for _, x := range []struct {
		field string
		c     value.Credits
	}{{".flat", r.Flat}, {".minimum", r.Minimum}} {
		switch {
		case x.c < 0:
			v.Add(prefix+x.field, "must not be negative")
		case x.c > value.MaxCredits:
			v.Add(prefix+x.field, "must be at most 1,000,000,000,000 credits")
		}
	}
	if r.FlatCostMicroUSD < 0 {
		v.Add(prefix+".flat_cost", "must not be negative")
	}
	if r.Multiplier < 0 || r.Multiplier > maxMultiplier {
		v.Add(prefix+".multiplier", "must be from 0 to 100")
	}
	for i, c := range r.Components {
		field := prefix + ".components." + c.Quantity
		switch {
		case !slices.Contains(a.Quantities, c.Quantity):
			v.Add(field, "%s does not take quantity %q (it takes: %s)", a.Key, c.Quantity, orNone(a.Quantities))
		case slices.IndexFunc(r.Components, func(x Component) bool { return x.Quantity == c.Quantity }) != i:
			v.Add(field, "is priced twice")
		}
		validateComponent(v, field, c)
	}
}

func validateComponent(v *value.Validation, field string, c Component) {
	if c.Per < 1 || c.Per > maxBlock {
		v.Add(field+".per", "must be a whole number of units from 1 to %d", maxBlock)
	}
	if c.Price < 0 {
		v.Add(field, "price must not be negative")
	}
	if c.CostMicroUSD < 0 {
		v.Add(field+".cost", "must not be negative")
	}
	if c.Price > value.MaxCredits {
		v.Add(field+".price", "must be at most 1,000,000,000,000 credits")
	}
	if len(c.Tiers) > 0 && c.Price != 0 {
		v.Add(field+".price", "must be empty when the component has tiers")
	}
	var prev value.Quantity
	for i, t := range c.Tiers {
		last := i == len(c.Tiers)-1
		switch {
		case t.Price < 0:
			v.Add(field+".tiers", "prices must not be negative")
		case t.Price > value.MaxCredits:
			v.Add(field+".tiers", "prices must be at most 1,000,000,000,000 credits")
		case last && t.UpTo != 0:
			v.Add(field+".tiers", "the last tier must have no upper bound")
		case !last && t.UpTo <= prev:
			v.Add(field+".tiers", "upper bounds must ascend")
		}
		prev = t.UpTo
	}
}

// validateAmbiguity refuses two rates of one action with the same number of
// attributes that a single request can match, unless a more specific rate
// covering both settles every such request.
func validateAmbiguity(v *value.Validation, rates []Rate) {
	for i, x := range rates {
		for _, y := range rates[i+1:] {
			if x.Action != y.Action || len(x.Match) != len(y.Match) {
				continue
			}
			union, ok := unionMatch(x.Match, y.Match)
			if !ok || settled(rates, x.Action, union, len(x.Match)) {
				continue
			}
			req := matchText(union)
			if req == "" {
				req = "no attributes"
			}
			v.Add("rates."+y.ID, "is as specific as rate %s and a request with %s matches both", x.ID, req)
		}
	}
}

func unionMatch(a, b map[string]string) (map[string]string, bool) {
	u := maps.Clone(a)
	if u == nil {
		u = map[string]string{}
	}
	for k, val := range b {
		if have, ok := u[k]; ok && have != val {
			return nil, false
		}
		u[k] = val
	}
	return u, true
}

func settled(rates []Rate, action string, union map[string]string, n int) bool {
	for _, c := range rates {
		if c.Action != action || len(c.Match) <= n {
			continue
		}
		covered := true
		for k, val := range c.Match {
			if union[k] != val {
				covered = false
				break
			}
		}
		if covered {
			return true
		}
	}
	return false
}

func validateSchedule(v *value.Validation, s Schedule) {
	for i, w := range s.Windows {
		field := fmt.Sprintf("schedule.windows.#%d", i)
		if w.Name == "" {
			v.Add(field+".name", "is required")
		}
		checkNames(v, field+".days", w.Days, dayNames)
		if w.FromHour < 0 || w.ToHour > 24 || w.FromHour >= w.ToHour {
			v.Add(field+".hours", "need 0 <= from_hour < to_hour <= 24 (split a window that crosses midnight)")
		}
		if w.Multiplier <= 0 || w.Multiplier > maxMultiplier {
			v.Add(field+".multiplier", "must be more than 0 and at most 100")
		}
		for j, o := range s.Windows[:i] {
			if windowDays(w)&windowDays(o) != 0 && w.FromHour < o.ToHour && o.FromHour < w.ToHour {
				v.Add(field, "overlaps window #%d (%s)", j, o.Name)
			}
		}
	}
}

func windowDays(w Window) uint8 { return compileWindow(w).days }

// ValidateRate validates the book and keeps only the problems of rate id (its own fields,
// and its ambiguity with another rate), so an editor can save one rate of a draft that is
// otherwise still work in progress. Errors: invalid_request naming rates.<id>.* fields.
func (b *Book) ValidateRate(id string) error {
	return b.validateOnly(func(f string) bool {
		return f == "rates."+id || strings.HasPrefix(f, "rates."+id+".") || strings.HasPrefix(f, "rates.#")
	}, id)
}

// ValidateAction validates the book and keeps only the problems of action key (its fields,
// or a key that is malformed or taken) and, under actions.<key>, those of the rates of that
// action (a quantity or attribute they use that the action no longer takes), so one action of
// a draft saves on its own. Errors: invalid_request naming actions.<key>.* fields.
func (b *Book) ValidateAction(key string) error {
	err := b.Validate()
	e, ok := err.(*value.Error)
	if !ok {
		return err
	}
	var rates []string
	for _, r := range b.data.Rates {
		if r.Action == key {
			rates = append(rates, r.ID)
		}
	}
	var v value.Validation
	for _, f := range slices.Sorted(maps.Keys(e.Fields)) {
		msg := e.Fields[f]
		if f == "actions."+key || strings.HasPrefix(f, "actions."+key+".") || strings.HasPrefix(f, "actions.#") {
			v.Add(f, "%s", msg)
			continue
		}
		for _, id := range rates {
			if f == "rates."+id || strings.HasPrefix(f, "rates."+id+".") {
				v.Add("actions."+key, "rate %s: %s", id, msg) // the first one; the review lists them all
			}
		}
	}
	return v.Err()
}

// ValidateSettings keeps the schedule's and the batch multiplier's problems alone.
func (b *Book) ValidateSettings() error {
	return b.validateOnly(func(f string) bool {
		return strings.HasPrefix(f, "schedule") || f == "batch_multiplier"
	}, "")
}

func (b *Book) validateOnly(keep func(field string) bool, rateID string) error {
	err := b.Validate()
	e, ok := err.(*value.Error)
	if !ok {
		return err
	}
	var v value.Validation
	for f, msg := range e.Fields {
		if keep(f) || (rateID != "" && strings.Contains(msg, "rate "+rateID+" ")) {
			v.Add(f, "%s", msg)
		}
	}
	return v.Err()
}
