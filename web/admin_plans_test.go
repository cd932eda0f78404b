package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// planFormValues reads a plan or pack form of /admin/plans as the browser would send it.
func planFormValues(t *testing.T, a *adminEnv, testid string) url.Values {
	t.Helper()
	v := url.Values{}
	sel := a.adm.Get("/admin/plans").Doc.Find(`[data-testid="` + testid + `"]`)
	if sel.Length() == 0 {
		t.Fatalf("no %s on /admin/plans", testid)
	}
	sel.Find("input, select").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		val, _ := s.Attr("value")
		if goquery.NodeName(s) == "select" {
			val, _ = s.Find("option[selected]").Attr("value")
		}
		if typ, _ := s.Attr("type"); typ == "checkbox" {
			if _, on := s.Attr("checked"); !on {
				return
			}
			val = "on"
		}
		if name != "" && name != "_csrf" {
			v.Set(name, val)
		}
	})
	return v
}

func TestAdminPlansEditor(t *testing.T) {
	a := newAdminEnv(t)
	keepCatalog(t, a.Env)
	if p := a.cust.Get("/admin/plans"); p.Status != http.StatusNotFound {
		t.Fatalf("customer GET: %d", p.Status)
	}
	v := planFormValues(t, a, "form-pack:growth")
	v.Set("price_eur", "41.5x")
	v.Set("reason", "")
	bad := a.adm.Submit("/admin/plans", "/admin/plans/packs", v)
	if bad.Status != 422 || bad.Doc.Find(`[data-testid="form-pack:growth"] [data-testid="error-price_eur"]`).Length() != 1 {
		t.Fatalf("bad price: %d", bad.Status)
	}
	v.Set("price_eur", "41.50")
	if bad = a.adm.Submit("/admin/plans", "/admin/plans/packs", v); bad.Status != 422 || bad.Doc.Find(`[data-testid="error-reason"]`).Length() != 1 {
		t.Fatalf("no reason: %d", bad.Status)
	}
	v.Set("price_gbp", "36.00")
	v.Set("reason", "euro and pound prices")
	if ok := a.adm.Submit("/admin/plans", "/admin/plans/packs", v); ok.Status != http.StatusSeeOther {
		t.Fatalf("save pack: %d", ok.Status)
	}
	p, err := a.Svc.Pack(context.Background(), "growth")
	if err != nil || p.Prices["eur"] != 41_50 || p.Prices["gbp"] != 36_00 || p.Prices["usd"] != 45_00 {
		t.Fatalf("growth prices %v, %v", p.Prices, err)
	}
	// Retire a plan: it shows as retired and is no longer offered.
	v = planFormValues(t, a, "form-plan:basic")
	v.Del("active")
	v.Set("reason", "retiring basic")
	if ok := a.adm.Submit("/admin/plans", "/admin/plans/plans", v); ok.Status != http.StatusSeeOther {
		t.Fatalf("retire plan: %d %s", ok.Status, ok.Body)
	}
	if !strings.Contains(a.adm.Get("/admin/plans").Doc.Find(`[data-testid="plan-basic"] summary`).Text(), "retired") {
		t.Error("basic is not shown as retired")
	}
	plans, _ := a.Svc.Plans(context.Background())
	for _, p := range plans {
		if p.Key == "basic" {
			t.Error("a retired plan is still offered")
		}
	}
	// A new plan.
	v = planFormValues(t, a, "form-plan:new")
	v.Set("key", "team")
	v.Set("name", "Team")
	v.Set("price_usd", "99.00")
	v.Set("price_eur", "95.00")
	v.Set("reason", "new team plan")
	if ok := a.adm.Submit("/admin/plans", "/admin/plans/plans", v); ok.Status != http.StatusSeeOther {
		t.Fatalf("new plan: %d %s", ok.Status, ok.Body)
	}
	got := strings.Join(a.auditActions(), ",")
	if strings.Count(got, "plan.save") != 2 || strings.Count(got, "pack.save") != 1 {
		t.Errorf("audit = %s", got)
	}
}

// TestAdminPlansStripePriceIDs: Stripe price ids are edited beside the prices; a malformed id,
// or one for a currency without a price, is refused with the error beside its field and the
// typed value kept; good ones are saved and shown again.
func TestAdminPlansStripePriceIDs(t *testing.T) {
	a := newAdminEnv(t)
	keepCatalog(t, a.Env)
	ctx := context.Background()

	v := planFormValues(t, a, "form-pack:growth")
	v.Set("stripe_usd", "prod_123")
	v.Set("stripe_gbp", "price_1GrowthGbp") // growth has no GBP price
	v.Set("reason", "stripe prices")
	bad := a.adm.Submit("/admin/plans", "/admin/plans/packs", v)
	form := bad.Doc.Find(`[data-testid="form-pack:growth"]`)
	if bad.Status != 422 || form.Find(`[data-testid="error-stripe_usd"]`).Length() != 1 || form.Find(`[data-testid="error-stripe_gbp"]`).Length() != 1 {
		t.Fatalf("bad pack ids: %d", bad.Status)
	}
	if val, _ := form.Find(`input[name="stripe_usd"]`).Attr("value"); val != "prod_123" {
		t.Errorf("typed id not kept: %q", val)
	}
	v.Set("stripe_usd", "price_1GrowthUsd")
	v.Set("stripe_gbp", "")
	if ok := a.adm.Submit("/admin/plans", "/admin/plans/packs", v); ok.Status != http.StatusSeeOther {
		t.Fatalf("save pack ids: %d %s", ok.Status, ok.Body)
	}
	if p, err := a.Svc.Pack(ctx, "growth"); err != nil || p.StripePrices["usd"] != "price_1GrowthUsd" || len(p.StripePrices) != 1 {
		t.Fatalf("growth stripe prices %v, %v", p.StripePrices, err)
	}
	if v := planFormValues(t, a, "form-pack:growth"); v.Get("stripe_usd") != "price_1GrowthUsd" {
		t.Errorf("saved id not shown: %q", v.Get("stripe_usd"))
	}

	v = planFormValues(t, a, "form-plan:pro")
	v.Set("stripe_monthly_usd", "price_1 Pro")
	v.Set("stripe_yearly_usd", "price_1ProYearly") // no yearly price yet
	v.Set("reason", "stripe prices")
	bad = a.adm.Submit("/admin/plans", "/admin/plans/plans", v)
	form = bad.Doc.Find(`[data-testid="form-plan:pro"]`)
	if bad.Status != 422 || form.Find(`[data-testid="error-stripe_monthly_usd"]`).Length() != 1 ||
		form.Find(`[data-testid="error-stripe_yearly_usd"]`).Length() != 1 {
		t.Fatalf("bad plan ids: %d", bad.Status)
	}
	v.Set("stripe_monthly_usd", "price_1ProMonthly")
	v.Set("yearly_usd", "490.00")
	if ok := a.adm.Submit("/admin/plans", "/admin/plans/plans", v); ok.Status != http.StatusSeeOther {
		t.Fatalf("save plan ids: %d %s", ok.Status, ok.Body)
	}
	p, err := a.Svc.Plan(ctx, "pro")
	if err != nil || p.StripePriceMonthly["usd"] != "price_1ProMonthly" || p.StripePriceYearly["usd"] != "price_1ProYearly" ||
		p.PriceYearly["usd"] != 490_00 {
		t.Fatalf("pro: monthly ids %v, yearly ids %v, yearly %v, %v", p.StripePriceMonthly, p.StripePriceYearly, p.PriceYearly, err)
	}
}
