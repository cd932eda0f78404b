package billing

// Seed data: the demo defaults of the spec (sections 2 and 3). Vendor costs are
// illustrative list prices of comparable vendors, in micro-dollars per block;
// every rate stays above cost even at enterprise (0.8×) with off-peak and batch.

// SeedPlans are the demo plans: Free, Basic, Pro, Enterprise.
func SeedPlans() []Plan {
	return []Plan{
		{Key: "free", Name: "Free", PriceMonthly: Prices{"usd": 0}, Rollover: Rollover{Policy: RolloverNone},
			Multiplier: MultiplierOne, Active: true, SortOrder: 10, Entitlements: Entitlements{
				Priority: PriorityStandard, RateLimitPerMin: 60, MaxActiveHolds: 2, TeamSeats: 1}},
		{Key: "basic", Name: "Basic", PriceMonthly: Prices{"usd": 12_00}, CreditsPerPeriod: 500 * Credit,
			Rollover: Rollover{Policy: RolloverNone}, Multiplier: MultiplierOne, Active: true, SortOrder: 20, Entitlements: Entitlements{
				Priority: PriorityStandard, CommercialUse: true, RateLimitPerMin: 120, MaxActiveHolds: 5, TeamSeats: 1}},
		{Key: "pro", Name: "Pro", PriceMonthly: Prices{"usd": 49_00}, CreditsPerPeriod: 5_000 * Credit,
			Rollover: Rollover{Policy: RolloverNone}, Multiplier: MustMultiplier("0.9"), Active: true, SortOrder: 30, Entitlements: Entitlements{
				PremiumModels: true, APIAccess: true, Priority: PriorityHigh, CommercialUse: true,
				RateLimitPerMin: 600, MaxActiveHolds: 20, TeamSeats: 5}},
		// Enterprise rolls over up to one period's allotment.
		{Key: "enterprise", Name: "Enterprise", PriceMonthly: Prices{"usd": 399_00}, CreditsPerPeriod: 50_000 * Credit,
			Rollover: Rollover{Policy: RolloverCapped, CapCredits: 50_000 * Credit}, Multiplier: MustMultiplier("0.8"), Active: true, SortOrder: 40,
			Entitlements: Entitlements{PremiumModels: true, Batch: true, APIAccess: true, Priority: PriorityDedicated,
				CommercialUse: true, RateLimitPerMin: 6_000, MaxActiveHolds: 200, TeamSeats: 100}},
	}
}

// SeedPacks are the demo packs, each expiring 12 months after purchase.
func SeedPacks() []Pack {
	months := func(n int) *int { return &n }
	return []Pack{
		{Key: "starter", Name: "Starter", Credits: 100 * Credit, Prices: Prices{"usd": 10_00}, ExpiryMonths: months(12), Active: true, SortOrder: 10},
		{Key: "growth", Name: "Growth", Credits: 500 * Credit, Prices: Prices{"usd": 45_00}, ExpiryMonths: months(12), Active: true, SortOrder: 20},
		{Key: "scale", Name: "Scale", Credits: 1_000 * Credit, Prices: Prices{"usd": 80_00}, ExpiryMonths: months(12), Active: true, SortOrder: 30},
	}
}
