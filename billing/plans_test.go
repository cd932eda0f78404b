package billing

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestSeedPlans(t *testing.T) {
	want := map[string]struct {
		usd     int64
		credits string
		mult    string
		premium bool
		api     bool
	}{
		"free":       {0, "0", "1", false, false},
		"basic":      {1200, "500", "1", false, false},
		"pro":        {4900, "5000", "0.9", true, true},
		"enterprise": {39900, "50000", "0.8", true, true},
	}
	plans := SeedPlans()
	if len(plans) != len(want) {
		t.Fatalf("%d plans", len(plans))
	}
	for _, p := range plans {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", p.Key, err)
		}
		w := want[p.Key]
		if p.PriceMonthly["usd"] != w.usd || p.CreditsPerPeriod != MustCredits(w.credits) || p.Multiplier != MustMultiplier(w.mult) ||
			p.Entitlements.PremiumModels != w.premium || p.Entitlements.APIAccess != w.api || !p.Active {
			t.Errorf("%s = %+v", p.Key, p)
		}
	}
	ent := plans[3].Entitlements
	for _, f := range []string{FeaturePremiumModels, FeatureBatch, FeatureAPIAccess, FeatureCommercialUse} {
		if !ent.Has(f) || !ent.Features()[f] {
			t.Errorf("enterprise lacks %s", f)
		}
	}
	if ent.Priority != PriorityDedicated || plans[3].Rollover.Policy == RolloverNone {
		t.Errorf("enterprise: %+v", plans[3])
	}
	if plans[0].Entitlements.Has(FeaturePremiumModels) || plans[0].Entitlements.Has("nonsense") {
		t.Error("free has premium models")
	}
}

func TestSeedPacks(t *testing.T) {
	want := map[string][2]int64{"starter": {100, 1000}, "growth": {500, 4500}, "scale": {1000, 8000}}
	bought := time.Date(2025, 3, 5, 10, 0, 0, 0, time.UTC)
	for _, p := range SeedPacks() {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", p.Key, err)
		}
		w := want[p.Key]
		if p.GrantCredits() != Credits(w[0])*Credit || p.Prices["usd"] != w[1] {
			t.Errorf("%s = %+v", p.Key, p)
		}
		if exp := p.ExpiresAt(bought); exp == nil || !exp.Equal(bought.AddDate(1, 0, 0)) {
			t.Errorf("%s expires %v", p.Key, exp)
		}
	}
	if (Pack{}).ExpiresAt(bought) != nil {
		t.Error("a pack without expiry expires")
	}
}

func TestPlanValidate(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(p *Plan)
		field string
	}{
		{"key", func(p *Plan) { p.Key = "Pro Plan" }, "key"},
		{"name", func(p *Plan) { p.Name = "" }, "name"},
		{"no usd", func(p *Plan) { p.PriceMonthly = Prices{"eur": 4500} }, "price_monthly.usd"},
		{"negative price", func(p *Plan) { p.PriceMonthly["eur"] = -1 }, "price_monthly.eur"},
		{"bad currency", func(p *Plan) { p.PriceMonthly["EUR"] = 100 }, "price_monthly.EUR"},
		{"yearly without usd", func(p *Plan) { p.PriceYearly = Prices{"eur": 1} }, "price_yearly.usd"},
		{"negative credits", func(p *Plan) { p.CreditsPerPeriod = -1 }, "credits_per_period"},
		{"zero multiplier", func(p *Plan) { p.Multiplier = 0 }, "multiplier"},
		{"unknown rollover", func(p *Plan) { p.Rollover.Policy = "some" }, "rollover.policy"},
		{"capped without cap", func(p *Plan) { p.Rollover = Rollover{Policy: RolloverCapped} }, "rollover.cap_credits"},
		{"full without periods", func(p *Plan) { p.Rollover = Rollover{Policy: RolloverFull} }, "rollover.max_periods"},
		{"none with cap", func(p *Plan) { p.Rollover = Rollover{Policy: RolloverNone, CapCredits: 1} }, "rollover"},
		{"priority", func(p *Plan) { p.Entitlements.Priority = "urgent" }, "entitlements.priority"},
		{"rate limit", func(p *Plan) { p.Entitlements.RateLimitPerMin = 0 }, "entitlements.rate_limit_per_min"},
		{"holds", func(p *Plan) { p.Entitlements.MaxActiveHolds = -1 }, "entitlements.max_active_holds"},
		{"seats", func(p *Plan) { p.Entitlements.TeamSeats = 0 }, "entitlements.team_seats"},
	}
	for _, c := range cases {
		p := SeedPlans()[2]
		c.edit(&p)
		if f := fieldsOf(t, p.Validate()); f[c.field] == "" {
			t.Errorf("%s: fields %v lack %s", c.name, f, c.field)
		}
	}
}

func TestPackValidate(t *testing.T) {
	zero, forever := 0, 121
	cases := []struct {
		name  string
		edit  func(p *Pack)
		field string
	}{
		{"credits", func(p *Pack) { p.Credits = 0 }, "credits"},
		{"bonus", func(p *Pack) { p.BonusCredits = -1 }, "bonus_credits"},
		{"free pack", func(p *Pack) { p.Prices["usd"] = 0 }, "prices.usd"},
		{"expiry 0", func(p *Pack) { p.ExpiryMonths = &zero }, "expiry_months"},
		{"expiry too long", func(p *Pack) { p.ExpiryMonths = &forever }, "expiry_months"},
		{"key", func(p *Pack) { p.Key = "" }, "key"},
	}
	for _, c := range cases {
		p := SeedPacks()[0]
		c.edit(&p)
		if f := fieldsOf(t, p.Validate()); f[c.field] == "" {
			t.Errorf("%s: fields %v lack %s", c.name, f, c.field)
		}
	}
	p := SeedPacks()[1]
	p.ExpiryMonths = nil
	p.BonusCredits = 50 * Credit
	if err := p.Validate(); err != nil || p.GrantCredits() != 550*Credit {
		t.Errorf("never-expiring pack with bonus: %v %s", err, p.GrantCredits())
	}
}

func TestPlanJSON(t *testing.T) {
	js, err := json.Marshal(SeedPlans()[3])
	must(t, err)
	for _, frag := range []string{`"credits_per_period":"50000"`, `"multiplier":"0.8"`, `"price_monthly":{"usd":39900}`,
		`"rollover":{"policy":"capped","cap_credits":"50000"}`, `"priority":"dedicated"`} {
		if !strings.Contains(string(js), frag) {
			t.Errorf("plan JSON lacks %s: %s", frag, js)
		}
	}
	js, err = json.Marshal(SeedPacks()[0])
	must(t, err)
	if !strings.Contains(string(js), `"expiry_months":12`) {
		t.Errorf("pack JSON: %s", js)
	}
}

func TestRollover(t *testing.T) {
	c := MustCredits
	lots := []RolloverLot{{Remaining: c("300"), Carried: 1}, {Remaining: c("200"), Carried: 0}, {Remaining: c("100"), Carried: 2}}
	cases := []struct {
		name    string
		policy  Rollover
		keep    []string
		carried string
		expired string
	}{
		{"none", Rollover{Policy: RolloverNone}, []string{"0", "0", "0"}, "0", "600"},
		{"capped keeps newest first", Rollover{Policy: RolloverCapped, CapCredits: c("250")}, []string{"50", "200", "0"}, "250", "350"},
		{"capped above everything", Rollover{Policy: RolloverCapped, CapCredits: c("1000")}, []string{"300", "200", "100"}, "600", "0"},
		{"full for 1 period", Rollover{Policy: RolloverFull, MaxPeriods: 1}, []string{"0", "200", "0"}, "200", "400"},
		{"full for 2 periods", Rollover{Policy: RolloverFull, MaxPeriods: 2}, []string{"300", "200", "0"}, "500", "100"},
	}
	for _, tc := range cases {
		res := tc.policy.Apply(lots, c("500"))
		for i, k := range tc.keep {
			if res.Keep[i] != c(k) {
				t.Errorf("%s: keep[%d] = %s, want %s", tc.name, i, res.Keep[i], k)
			}
		}
		if res.Carried != c(tc.carried) || res.Expired != c(tc.expired) || res.Balance != c(tc.carried)+c("500") {
			t.Errorf("%s: %+v", tc.name, res)
		}
	}
	if res := (Rollover{Policy: RolloverCapped, CapCredits: c("10")}).Apply([]RolloverLot{{Remaining: -5}}, 0); res.Carried != 0 || res.Expired != 0 {
		t.Errorf("negative lot: %+v", res)
	}
}

// TestStripePriceIDsValidate: an id must look like a Stripe price id and sit beside a price in
// its currency (monthly, yearly, pack); good ones pass.
func TestStripePriceIDsValidate(t *testing.T) {
	plan := func(edit func(p *Plan)) error {
		p := SeedPlans()[2]
		p.PriceMonthly = Prices{"usd": 4900, "eur": 4500}
		p.PriceYearly = Prices{"usd": 49000}
		edit(&p)
		return p.Validate()
	}
	pack := func(ids StripePrices) error {
		p := SeedPacks()[0]
		p.StripePrices = ids
		return p.Validate()
	}
	bad := []struct {
		name  string
		err   error
		field string
	}{
		{"not a price id", plan(func(p *Plan) { p.StripePriceMonthly = StripePrices{"usd": "prod_123"} }), "stripe_price_monthly.usd"},
		{"empty after prefix", plan(func(p *Plan) { p.StripePriceMonthly = StripePrices{"eur": "price_"} }), "stripe_price_monthly.eur"},
		{"punctuation", plan(func(p *Plan) { p.StripePriceMonthly = StripePrices{"usd": "price_12;DROP"} }), "stripe_price_monthly.usd"},
		{"too long", plan(func(p *Plan) { p.StripePriceMonthly = StripePrices{"usd": "price_" + strings.Repeat("a", 101)} }), "stripe_price_monthly.usd"},
		{"no gbp price", plan(func(p *Plan) { p.StripePriceMonthly = StripePrices{"gbp": "price_1Abc"} }), "stripe_price_monthly.gbp"},
		{"yearly without yearly eur", plan(func(p *Plan) { p.StripePriceYearly = StripePrices{"eur": "price_1Abc"} }), "stripe_price_yearly.eur"},
		{"bad currency", plan(func(p *Plan) { p.StripePriceMonthly = StripePrices{"US": "price_1Abc"} }), "stripe_price_monthly.US"},
		{"pack without eur price", pack(StripePrices{"eur": "price_1Abc"}), "stripe_prices.eur"},
		{"pack bad id", pack(StripePrices{"usd": "price 1"}), "stripe_prices.usd"},
	}
	for _, c := range bad {
		if f := fieldsOf(t, c.err); f[c.field] == "" {
			t.Errorf("%s: fields %v lack %s", c.name, f, c.field)
		}
	}
	if err := plan(func(p *Plan) {
		p.StripePriceMonthly = StripePrices{"usd": "price_1NxYzUsd", "eur": "price_1NxYzEur"}
		p.StripePriceYearly = StripePrices{"usd": "price_1NxYzYear"}
	}); err != nil {
		t.Errorf("good plan ids: %v", err)
	}
	if err := pack(StripePrices{"usd": "price_1Starter"}); err != nil {
		t.Errorf("good pack id: %v", err)
	}
}
