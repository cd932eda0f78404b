package store_test

import (
	"context"
	"slices"
	"testing"

	"creditline/billing"
)

// TestRetiredPlanAndPackStayValid: a retired plan is no longer offered but accounts on it keep
// its multiplier and entitlements (a premium model still debits at its price); a retired pack
// is no longer sold but still resolves for a purchase already paid. Both saves are audited.
func TestRetiredPlanAndPackStayValid(t *testing.T) {
	ctx := context.Background()
	svc, db := seeded(t)
	a, err := svc.CreateAccount(ctx, billing.CreateAccountInput{Name: "on pro"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetPlan(ctx, a.ID, "pro"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Grant(ctx, billing.GrantInput{AccountID: a.ID, Source: "purchase", Amount: billing.MustCredits("1000"), Reason: "t"}); err != nil {
		t.Fatal(err)
	}
	op := billing.Op{Actor: billing.UserActor("usr_ops"), Reason: "pro replaced by pro-2"}
	pro, err := svc.Plan(ctx, "pro")
	if err != nil {
		t.Fatal(err)
	}
	charge := func(key string) billing.UsageResult {
		t.Helper()
		res, err := svc.ChargeUsage(ctx, billing.UsageInput{AccountID: a.ID, Action: "chat.completion", Attributes: map[string]string{"model": "gpt-4o"},
			Quantities: map[string]billing.Quantity{"input_tokens": billing.Count(1000), "output_tokens": billing.Count(1000)}, IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	before := charge("before-retire")
	pro.Active = false
	if err := svc.SavePlanAs(ctx, billing.Op{Actor: op.Actor}, pro); billing.ErrorCode(err) != billing.EInvalid {
		t.Errorf("save without a reason = %v", err)
	}
	if err := svc.SavePlanAs(ctx, op, pro); err != nil {
		t.Fatal(err)
	}
	offered, err := svc.Plans(ctx)
	if err != nil || slices.ContainsFunc(offered, func(p billing.Plan) bool { return p.Key == "pro" }) {
		t.Errorf("a retired plan is still offered: %v", err)
	}
	after := charge("after-retire")
	if after.Event.Credits != before.Event.Credits || after.Event.Credits == 0 {
		t.Errorf("on the retired plan a gpt-4o request costs %s, before %s", after.Event.Credits, before.Event.Credits)
	}
	if e, err := svc.Entitlements(ctx, billing.Account{PlanKey: "pro"}); err != nil || !e.PremiumModels {
		t.Errorf("retired plan entitlements = %+v, %v", e, err)
	}

	growth, err := svc.Pack(ctx, "growth")
	if err != nil {
		t.Fatal(err)
	}
	growth.Active = false
	growth.Prices = billing.Prices{"usd": 45_00, "eur": 42_00, "gbp": 36_00}
	if err := svc.SavePackAs(ctx, op, growth); err != nil {
		t.Fatal(err)
	}
	if packs, _ := svc.Packs(ctx); slices.ContainsFunc(packs, func(p billing.Pack) bool { return p.Key == "growth" }) {
		t.Error("a retired pack is still sold")
	}
	if p, err := svc.Pack(ctx, "growth"); err != nil || p.Active || p.Prices["eur"] != 42_00 {
		t.Errorf("a paid purchase of the retired pack cannot resolve it: %+v %v", p, err)
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM audit_log WHERE action IN ('plan.save', 'pack.save') AND reason = $1`, op.Reason); err != nil || n != 2 {
		t.Errorf("audited saves = %d, %v", n, err)
	}
}
