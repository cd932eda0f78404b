package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"creditline/billing"
	"creditline/store"
	"creditline/store/pgtest"
	"github.com/lib/pq"
)

func TestSeedCatalogTwice(t *testing.T) {
	ctx := context.Background()
	svc, db := seeded(t)
	var stamp time.Time
	stampOf := `SELECT greatest((SELECT max(updated_at) FROM plans), (SELECT max(updated_at) FROM packs))`
	if err := db.Get(&stamp, stampOf); err != nil {
		t.Fatal(err)
	}
	if err := svc.SeedCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	var versions []int
	if err := db.Select(&versions, `SELECT version FROM price_books`); err != nil || len(versions) != 1 || versions[0] != 1 {
		t.Fatalf("versions = %v, %v; want [1]", versions, err)
	}
	var again time.Time
	if err := db.Get(&again, stampOf); err != nil || !again.Equal(stamp) {
		t.Errorf("second seed touched plans or packs: %v → %v (%v)", stamp, again, err)
	}
	v1, err := store.New(db).PriceBookVersion(ctx, 1)
	if err != nil || !reflect.DeepEqual(v1.Data(), billing.SeedPriceBook().Data()) {
		t.Errorf("stored version 1 differs from the seed: %v", err)
	}
	if live := svc.Live().Versions(); len(live) != 1 || live[0].Version() != 1 {
		t.Errorf("live versions = %d", len(live))
	}
	plans, err := svc.Plans(ctx)
	if err != nil || !reflect.DeepEqual(plans, billing.SeedPlans()) {
		t.Errorf("plans = %+v, %v\nwant %+v", plans, err, billing.SeedPlans())
	}
	packs, err := svc.Packs(ctx)
	if err != nil || !reflect.DeepEqual(packs, billing.SeedPacks()) {
		t.Errorf("packs = %+v, %v\nwant %+v", packs, err, billing.SeedPacks())
	}
	if len(plans) != 4 || len(packs) != 3 || plans[2].Multiplier != billing.MustMultiplier("0.9") ||
		plans[3].CreditsPerPeriod != 50_000*billing.Credit || packs[1].Prices["usd"] != 45_00 || *packs[2].ExpiryMonths != 12 {
		t.Errorf("demo figures: plans %+v packs %+v", plans, packs)
	}
}

func TestPlansAndPacks(t *testing.T) {
	ctx := context.Background()
	svc, db := seeded(t)
	team := billing.Plan{Key: "team", Name: "Team", PriceMonthly: billing.Prices{"usd": 99_00, "eur": 95_00},
		PriceYearly: billing.Prices{"usd": 990_00}, CreditsPerPeriod: billing.MustCredits("12000.5"),
		Rollover:   billing.Rollover{Policy: billing.RolloverFull, MaxPeriods: 2},
		Multiplier: billing.MustMultiplier("0.875"), SortOrder: 25,
		Entitlements: billing.Entitlements{Batch: true, Priority: billing.PriorityHigh, RateLimitPerMin: 300, TeamSeats: 10}}
	if err := svc.SavePlan(ctx, team); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.Plan(ctx, "team"); err != nil || !reflect.DeepEqual(got, team) {
		t.Errorf("plan = %+v, %v\nwant %+v", got, err, team)
	}
	var before, after time.Time
	stamp := `SELECT updated_at FROM plans WHERE key = 'team'`
	if err := db.Get(&before, stamp); err != nil {
		t.Fatal(err)
	}
	if err := svc.SavePlan(ctx, team); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&after, stamp); err != nil || !after.Equal(before) {
		t.Errorf("saving an unchanged plan bumped updated_at: %v → %v (%v)", before, after, err)
	}
	active, _ := svc.Plans(ctx)
	all, _ := svc.AllPlans(ctx)
	if len(active) != 4 || len(all) != 5 || all[2].Key != "team" {
		t.Errorf("inactive team plan: %d active, %d all", len(active), len(all))
	}
	bad := team
	bad.Multiplier = 0
	if err := svc.SavePlan(ctx, bad); billing.ErrorCode(err) != billing.EInvalid {
		t.Errorf("invalid plan saved: %v", err)
	}
	if _, err := svc.Plan(ctx, "gold"); billing.ErrorCode(err) != billing.ENotFound {
		t.Errorf("unknown plan: %v", err)
	}

	forever := billing.Pack{Key: "forever", Name: "Forever", Credits: 250 * billing.Credit, BonusCredits: billing.MustCredits("0.5"),
		Prices: billing.Prices{"usd": 20_00}, Active: true, SortOrder: 40}
	if err := svc.SavePack(ctx, forever); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.Pack(ctx, "forever"); err != nil || !reflect.DeepEqual(got, forever) || got.ExpiryMonths != nil {
		t.Errorf("pack = %+v, %v", got, err)
	}
	forever.Active = false
	if err := svc.SavePack(ctx, forever); err != nil {
		t.Fatal(err)
	}
	if packs, _ := svc.Packs(ctx); len(packs) != 3 {
		t.Errorf("retired pack still offered: %d packs", len(packs))
	}
	if _, err := svc.Pack(ctx, "nope"); billing.ErrorCode(err) != billing.ENotFound {
		t.Errorf("unknown pack: %v", err)
	}

	// Accounts reference plans.
	_, err := db.Exec(`INSERT INTO accounts (id, name, plan_key) VALUES ('acc_gold', 'Gold', 'gold')`)
	var pqe *pq.Error
	if !errors.As(err, &pqe) || pqe.Code.Name() != "foreign_key_violation" {
		t.Errorf("account on an unknown plan: %v", err)
	}
	acct := billing.Account{ID: "acc_pro", Name: "Pro", PlanKey: "pro"}
	if p, err := svc.AccountPlan(ctx, acct); err != nil || p.Multiplier != billing.MustMultiplier("0.9") || !p.Entitlements.APIAccess {
		t.Errorf("AccountPlan = %+v, %v", p, err)
	}
}

// TestMigrationWithExistingAccounts applies 0003 to a database whose accounts predate plans.
func TestMigrationWithExistingAccounts(t *testing.T) {
	db := pgtest.Empty(t)
	ms, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version == 3 {
			if _, err := db.Exec(`INSERT INTO accounts (id, name) VALUES ('acc_old', 'Old')`); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Exec(m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
	}
	var key string
	if err := db.Get(&key, `SELECT p.key FROM accounts a JOIN plans p ON p.key = a.plan_key WHERE a.id = 'acc_old'`); err != nil || key != "free" {
		t.Errorf("old account's plan = %q, %v", key, err)
	}
}
