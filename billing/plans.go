package billing

import (
	"cmp"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Prices maps a lowercase ISO-4217 currency code ("usd", as Stripe writes it)
// to an amount in minor units (cents).
type Prices map[string]int64

// RolloverPolicy says what happens to a period's unspent subscription credits.
type RolloverPolicy string

const (
	RolloverNone   RolloverPolicy = "none"   // they expire at the period's end
	RolloverCapped RolloverPolicy = "capped" // at most CapCredits carry over, newest first
	RolloverFull   RolloverPolicy = "full"   // all carry over, each for at most MaxPeriods periods
)

type Rollover struct {
	Policy     RolloverPolicy `json:"policy"`
	CapCredits Credits        `json:"cap_credits,omitempty"`
	MaxPeriods int            `json:"max_periods,omitempty"`
}

// Priority is the support and queueing tier of a plan.
type Priority string

const (
	PriorityStandard  Priority = "standard"
	PriorityHigh      Priority = "high"
	PriorityDedicated Priority = "dedicated"
)

// Feature names, as the API reports them and as feature_not_entitled names them.
const (
	FeaturePremiumModels = "premium_models"
	FeatureBatch         = "batch"
	FeatureAPIAccess     = "api_access"
	FeatureCommercialUse = "commercial_use"
)

type Entitlements struct {
	PremiumModels   bool     `json:"premium_models"`
	Batch           bool     `json:"batch"`
	APIAccess       bool     `json:"api_access"`
	Priority        Priority `json:"priority"`
	CommercialUse   bool     `json:"commercial_use"`
	RateLimitPerMin int      `json:"rate_limit_per_min"` // API requests per minute, at least 1
	MaxActiveHolds  int      `json:"max_active_holds"`   // 0 means reservations are not allowed
	TeamSeats       int      `json:"team_seats"`         // members of a team account, at least 1
}

// Has reports a boolean feature by name; unknown names are false.
func (e Entitlements) Has(feature string) bool {
	switch feature {
	case FeaturePremiumModels:
		return e.PremiumModels
	case FeatureBatch:
		return e.Batch
	case FeatureAPIAccess:
		return e.APIAccess
	case FeatureCommercialUse:
		return e.CommercialUse
	}
	return false
}

// Features returns the boolean features by name, for the entitlements endpoint.
func (e Entitlements) Features() map[string]bool {
	return map[string]bool{FeaturePremiumModels: e.PremiumModels, FeatureBatch: e.Batch,
		FeatureAPIAccess: e.APIAccess, FeatureCommercialUse: e.CommercialUse}
}

// Plan is a subscription. Its credits arrive with each paid invoice.
type Plan struct {
	Key              string       `json:"key"`
	Name             string       `json:"name"`
	PriceMonthly     Prices       `json:"price_monthly"`
	PriceYearly      Prices       `json:"price_yearly,omitempty"` // nil: no yearly billing
	CreditsPerPeriod Credits      `json:"credits_per_period"`
	Rollover         Rollover     `json:"rollover"`
	Multiplier       Multiplier   `json:"multiplier"` // applied to every action's price
	Entitlements     Entitlements `json:"entitlements"`
	Active           bool         `json:"active"`
	SortOrder        int          `json:"sort_order"` // lists show lower first, then by key
	// Stripe prices to check out with, by currency, when Stripe keys are set (else inline prices).
	StripePriceMonthly StripePrices `json:"stripe_price_monthly,omitempty"`
	StripePriceYearly  StripePrices `json:"stripe_price_yearly,omitempty"`
}

// StripePrices maps a currency ("eur") to a Stripe price id ("price_..."). Checkout uses the
// id for that currency instead of an inline price when Stripe keys are set; the Stripe price
// is the operator's to keep in step with the amount here.
type StripePrices map[string]string

// Pack is a one-off purchase of credits.
type Pack struct {
	Key          string  `json:"key"`
	Name         string  `json:"name"`
	Credits      Credits `json:"credits"`
	BonusCredits Credits `json:"bonus_credits"`
	Prices       Prices  `json:"prices"`
	ExpiryMonths *int    `json:"expiry_months"` // nil: never expires
	Active       bool    `json:"active"`
	SortOrder    int     `json:"sort_order"` // lists show lower first, then by key
	// StripePrices: Stripe price ids by currency, used at Checkout when Stripe keys are set.
	StripePrices StripePrices `json:"stripe_prices,omitempty"`
}

var (
	keyRE      = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
	currencyRE = regexp.MustCompile(`^[a-z]{3}$`)
	// Stripe ids are a prefix and an underscore, then letters and digits.
	stripePriceRE = regexp.MustCompile(`^price_[A-Za-z0-9]{1,100}$`)
)

// Validate returns invalid_request naming each bad field.
func (p Plan) Validate() error {
	var v Validation
	checkKeyName(&v, p.Key, p.Name)
	checkPrices(&v, "price_monthly", p.PriceMonthly, false)
	if p.PriceYearly != nil {
		checkPrices(&v, "price_yearly", p.PriceYearly, false)
	}
	checkStripePrices(&v, "stripe_price_monthly", p.StripePriceMonthly, p.PriceMonthly)
	checkStripePrices(&v, "stripe_price_yearly", p.StripePriceYearly, p.PriceYearly)
	if msg := creditsProblem(p.CreditsPerPeriod, 0); msg != "" {
		v.Add("credits_per_period", "%s", msg)
	}
	if p.Rollover.CapCredits > MaxCredits {
		v.Add("rollover.cap_credits", "must be at most 1,000,000,000,000 credits")
	}
	p.Rollover.validate(&v)
	if p.Multiplier <= 0 || p.Multiplier > 100*MultiplierOne {
		v.Add("multiplier", "must be more than 0 and at most 100 (1 for list price)")
	}
	e := p.Entitlements
	if !slices.Contains([]Priority{PriorityStandard, PriorityHigh, PriorityDedicated}, e.Priority) {
		v.Add("entitlements.priority", "must be standard, high or dedicated")
	}
	if e.RateLimitPerMin < 1 {
		v.Add("entitlements.rate_limit_per_min", "must be at least 1")
	}
	if e.MaxActiveHolds < 0 {
		v.Add("entitlements.max_active_holds", "must not be negative")
	}
	if e.TeamSeats < 1 {
		v.Add("entitlements.team_seats", "must be at least 1")
	}
	return v.Err()
}

func (r Rollover) validate(v *Validation) {
	switch r.Policy {
	case RolloverNone:
		if r.CapCredits != 0 || r.MaxPeriods != 0 {
			v.Add("rollover", "a none policy takes no cap and no periods")
		}
	case RolloverCapped:
		if r.CapCredits <= 0 || r.MaxPeriods != 0 {
			v.Add("rollover.cap_credits", "a capped policy needs a cap above 0 and no periods")
		}
	case RolloverFull:
		if r.MaxPeriods < 1 || r.CapCredits != 0 {
			v.Add("rollover.max_periods", "a full policy needs at least 1 period and no cap")
		}
	default:
		v.Add("rollover.policy", "must be none, capped or full")
	}
}

// Validate returns invalid_request naming each bad field.
func (p Pack) Validate() error {
	var v Validation
	checkKeyName(&v, p.Key, p.Name)
	if msg := creditsProblem(p.Credits, 1); msg != "" {
		v.Add("credits", "%s", msg)
	}
	if msg := creditsProblem(p.BonusCredits, 0); msg != "" {
		v.Add("bonus_credits", "%s", msg)
	} else if p.Credits > 0 && p.Credits <= MaxCredits && p.GrantCredits() > MaxCredits {
		v.Add("bonus_credits", "credits and bonus together must be at most 1,000,000,000,000 credits")
	}
	checkPrices(&v, "prices", p.Prices, true)
	checkStripePrices(&v, "stripe_prices", p.StripePrices, p.Prices)
	if p.ExpiryMonths != nil && (*p.ExpiryMonths < 1 || *p.ExpiryMonths > 120) {
		v.Add("expiry_months", "must be from 1 to 120, or empty for never")
	}
	return v.Err()
}

func checkKeyName(v *Validation, key, name string) {
	if !keyRE.MatchString(key) {
		v.Add("key", "must be 1–32 lowercase letters, digits, '-' or '_', starting with a letter")
	}
	if name == "" {
		v.Add("name", "is required")
	}
}

// checkPrices wants a usd price (the default currency) and no negative or,
// when positive is set, zero amounts.
func checkPrices(v *Validation, field string, p Prices, positive bool) {
	if _, ok := p["usd"]; !ok {
		v.Add(field+".usd", "is required")
	}
	for _, cur := range slices.Sorted(maps.Keys(p)) {
		switch amt := p[cur]; {
		case !currencyRE.MatchString(cur):
			v.Add(field+"."+cur, "is not a lowercase ISO-4217 currency code")
		case amt < 0:
			v.Add(field+"."+cur, "must not be negative")
		case amt > MaxMoney:
			v.Add(field+"."+cur, "must be at most %d (minor units)", MaxMoney)
		case positive && amt == 0:
			v.Add(field+"."+cur, "must be more than 0")
		}
	}
}

// checkStripePrices wants each id in Stripe's price id form, for a currency the item has a
// price in (Checkout offers only those).
func checkStripePrices(v *Validation, field string, ids StripePrices, prices Prices) {
	for _, cur := range slices.Sorted(maps.Keys(ids)) {
		_, priced := prices[cur]
		switch id := ids[cur]; {
		case !currencyRE.MatchString(cur):
			v.Add(field+"."+cur, "is not a lowercase ISO-4217 currency code")
		case !stripePriceRE.MatchString(id):
			v.Add(field+"."+cur, "must be a Stripe price id like price_1NxYz (letters and digits after price_), or empty")
		case !priced:
			v.Add(field+"."+cur, "needs a %s price beside it", strings.ToUpper(cur))
		}
	}
}

// GrantCredits is what one purchase adds: credits plus bonus.
func (p Pack) GrantCredits() Credits { return p.Credits + p.BonusCredits }

// ExpiresAt is when credits bought at purchased expire, or nil for never.
// Months are calendar months (time.AddDate): 31 Jan + 1 month is 3 March.
func (p Pack) ExpiresAt(purchased time.Time) *time.Time {
	if p.ExpiryMonths == nil {
		return nil
	}
	t := purchased.UTC().AddDate(0, *p.ExpiryMonths, 0)
	return &t
}

// RolloverLot is the unspent part of one earlier subscription grant at a period boundary.
type RolloverLot struct {
	Remaining Credits
	// Carried counts the boundaries this lot has already crossed: 0 for the
	// allotment of the period now ending.
	Carried int
}

// RolloverResult says how much of each lot (same order as given) carries into
// the new period; the rest of each lot expires.
type RolloverResult struct {
	Keep    []Credits
	Carried Credits // sum of Keep
	Expired Credits // sum of what does not carry over
	Balance Credits // Carried plus the new allotment
}

// Apply decides what carries over when a new period's allotment arrives:
// none keeps nothing; capped keeps up to CapCredits (not counting the new
// allotment), newest lots first; full keeps every lot that has crossed fewer
// than MaxPeriods boundaries, so MaxPeriods 1 lets credits live one extra period.
// The new allotment is always granted in full. Negative remainders count as zero.
func (r Rollover) Apply(lots []RolloverLot, allotment Credits) RolloverResult {
	res := RolloverResult{Keep: make([]Credits, len(lots))}
	order := make([]int, len(lots))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(lots[a].Carried, lots[b].Carried) })
	room := r.CapCredits
	for _, i := range order {
		left := max(lots[i].Remaining, 0)
		var keep Credits
		switch r.Policy {
		case RolloverCapped:
			keep = min(left, max(room, 0))
			room -= keep
		case RolloverFull:
			if lots[i].Carried < r.MaxPeriods {
				keep = left
			}
		}
		res.Keep[i] = keep
		res.Carried += keep
		res.Expired += left - keep
	}
	res.Balance = res.Carried + max(allotment, 0)
	return res
}
