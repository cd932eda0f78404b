package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"creditline/billing"
	"creditline/web/webtest"
	"github.com/PuerkitoBio/goquery"
)

func billingEnv(t *testing.T) *webtest.Env {
	env := webtest.Start(t)
	if err := env.Svc.SeedCatalog(context.Background()); err != nil {
		t.Fatal(err)
	}
	return env
}

func text(p *webtest.Page, sel string) string {
	return strings.TrimSpace(p.Doc.Find(sel).First().Text())
}

func TestBillingPageShowsPacksPlansAndLabelledForms(t *testing.T) {
	env := billingEnv(t)
	c := env.Client(t)
	c.SignUp("Bea", "bea-billing@example.com", "long-enough-pw")
	p := c.Get("/billing")
	if p.Status != http.StatusOK {
		t.Fatalf("status %d", p.Status)
	}
	growth := text(p, `[data-testid="pack-growth"]`)
	for _, want := range []string{"500", "$45.00", "$0.090 per credit", "expire 12 months"} {
		if !strings.Contains(growth, want) {
			t.Errorf("growth pack %q lacks %q", growth, want)
		}
	}
	if p.Doc.Find(`[data-testid="plan-free"] [data-testid="current-plan-badge"]`).Length() != 1 {
		t.Error("the current plan (Free) must be marked")
	}
	if !strings.Contains(text(p, `[data-testid="plan-pro"]`), "Premium models") {
		t.Error("plans list their entitlements")
	}
	if p.Doc.Find(`a[href="/billing"]`).Length() == 0 || p.Doc.Find(`[data-testid="test-mode"]`).Length() != 1 {
		t.Error("navigation link or test-mode banner missing")
	}
	p.Doc.Find(`input:not([type="hidden"]), select`).Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("id")
		if id == "" || p.Doc.Find(`label[for="`+id+`"]`).Length() != 1 {
			t.Errorf("input %v has no label", s.AttrOr("name", "?"))
		}
	})
}

func TestBuyPackInTestModeAddsCreditsOnce(t *testing.T) {
	env := billingEnv(t)
	c := env.Client(t)
	c.SignUp("Cal", "cal-billing@example.com", "long-enough-pw")
	p := c.Submit("/billing", "/billing/checkout", url.Values{"kind": {"pack"}, "key": {"growth"}})
	loc := p.Header.Get("Location")
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/checkout/test/cs_test_") {
		t.Fatalf("checkout: %d %s", p.Status, loc)
	}
	page := c.Get(loc)
	if !strings.Contains(page.Body, "no money moves") || text(page, `[data-testid="checkout-amount"]`) != "$45.00" {
		t.Fatalf("checkout page:\n%s", page.Body)
	}
	other := env.Client(t)
	other.SignUp("Eve", "eve-billing@example.com", "long-enough-pw")
	if p := other.Get(loc); p.Status != http.StatusNotFound {
		t.Fatalf("another user sees the session: %d", p.Status)
	}
	if p := other.Submit("/billing", loc, url.Values{}); p.Status != http.StatusNotFound {
		t.Fatalf("another user pays the session: %d", p.Status)
	}
	p = c.Submit(loc, loc, url.Values{})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/billing?checkout=success" {
		t.Fatalf("pay: %d %s", p.Status, p.Header.Get("Location"))
	}
	c.Submit("/billing", loc, url.Values{}) // a second submit is a replay
	b := c.Get("/billing?checkout=success")
	if got := text(b, `[data-testid="billing-balance"]`); got != "550" {
		t.Fatalf("balance %q, want 550", got)
	}
	if !strings.Contains(text(b, `[data-testid="flash"]`), "no money moved") || b.Doc.Find(`[data-testid="payments"] tbody tr`).Length() != 1 {
		t.Fatal("flash or payment row missing")
	}
	href, _ := b.Doc.Find(`[data-testid="payments"] a`).Attr("href")
	if r := c.Get(href); r.Status != http.StatusOK || !strings.Contains(r.Body, "$45.00") {
		t.Fatalf("receipt %s: %d", href, r.Status)
	}
	if r := other.Get(href); r.Status != http.StatusNotFound {
		t.Fatalf("another user's receipt: %d", r.Status)
	}
}

func TestSubscribeRenewAndCancelInTestMode(t *testing.T) {
	env := billingEnv(t)
	c := env.Client(t)
	c.SignUp("Dee", "dee-billing@example.com", "long-enough-pw")
	p := c.Submit("/billing", "/billing/checkout", url.Values{"kind": {"plan"}, "key": {"pro"}})
	loc := p.Header.Get("Location")
	c.Submit(loc, loc, url.Values{})
	b := c.Get("/billing")
	if text(b, `[data-testid="current-plan"]`) != "Pro" || text(b, `[data-testid="billing-balance"]`) != "5,050" {
		t.Fatalf("after subscribing: plan %q balance %q", text(b, `[data-testid="current-plan"]`), text(b, `[data-testid="billing-balance"]`))
	}
	// Pro rolls nothing over: the renewal replaces the unspent allotment.
	if p := c.Submit("/billing", "/billing/test/subscription", url.Values{"action": {"renew"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("renew: %d %s", p.Status, p.Body)
	}
	if got := text(c.Get("/billing"), `[data-testid="billing-balance"]`); got != "5,050" {
		t.Fatalf("after renewal balance %q", got)
	}
	c.Submit("/billing", "/billing/test/subscription", url.Values{"action": {"cancel"}})
	if got := text(c.Get("/billing"), `[data-testid="current-plan"]`); got != "Free" {
		t.Fatalf("after cancel plan %q", got)
	}
}

func TestAutoRechargeFormKeepsInputAndShowsErrors(t *testing.T) {
	env := billingEnv(t)
	c := env.Client(t)
	c.SignUp("Flo", "flo-billing@example.com", "long-enough-pw")
	p := c.Submit("/billing", "/billing/auto-recharge", url.Values{"enabled": {"on"}, "threshold": {"ten"}, "pack": {"growth"},
		"cap_count": {"3"}, "cap_amount": {"20"}})
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", p.Status)
	}
	for _, f := range []string{"threshold", "cap_amount", "enabled"} {
		if p.Doc.Find(`[data-testid="error-`+f+`"]`).Length() != 1 {
			t.Errorf("no error beside %s", f)
		}
	}
	if v, _ := p.Doc.Find(`#f-threshold`).Attr("value"); v != "ten" {
		t.Errorf("input not kept: %q", v)
	}
	// After a pack purchase (which saves the card) valid settings are stored.
	loc := c.Submit("/billing", "/billing/checkout", url.Values{"kind": {"pack"}, "key": {"starter"}}).Header.Get("Location")
	c.Submit(loc, loc, url.Values{})
	p = c.Submit("/billing", "/billing/auto-recharge", url.Values{"enabled": {"on"}, "threshold": {"20"}, "pack": {"starter"},
		"cap_count": {"3"}, "cap_amount": {"30.00"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.Status, p.Body)
	}
	if s := text(c.Get("/billing"), `[data-testid="auto-recharge-status"]`); !strings.HasPrefix(s, "Auto-recharge is on.") {
		t.Fatalf("status %q", s)
	}
}

func TestStripeWebhookWithoutASecretIsNotFound(t *testing.T) {
	env := billingEnv(t)
	resp, err := http.Post(env.URL+"/webhooks/stripe", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// TestSubscribeInTheCustomersCurrency: a plan card offers each currency the plan has a price in
// (and no other); subscribing in EUR checks out in EUR, and the test-mode fulfilment records
// the payment in EUR and moves the account to the plan.
func TestSubscribeInTheCustomersCurrency(t *testing.T) {
	env := billingEnv(t)
	keepCatalog(t, env)
	ctx := context.Background()
	pro, err := env.Svc.Plan(ctx, "pro")
	if err != nil {
		t.Fatal(err)
	}
	pro.PriceMonthly = billing.Prices{"usd": 49_00, "eur": 45_00}
	if err := env.Svc.SavePlanAs(ctx, billing.Op{Actor: billing.UserActor("usr_ops"), Reason: "euro price"}, pro); err != nil {
		t.Fatal(err)
	}
	c := env.Client(t)
	c.SignUp("Eva", "eva-billing@example.com", "long-enough-pw")
	p := c.Get("/billing")
	eur := p.Doc.Find(`[data-testid="plan-pro"] button[data-testid="subscribe-pro-eur"]`)
	if eur.Length() != 1 || !strings.Contains(eur.Text(), "€45.00 / month") || eur.AttrOr("value", "") != "eur" {
		t.Fatalf("pro's EUR button: %d %q", eur.Length(), eur.Text())
	}
	if p.Doc.Find(`[data-testid="subscribe-pro-gbp"], [data-testid="subscribe-basic-eur"]`).Length() != 0 {
		t.Error("a currency the plan has no price in is offered")
	}
	if p.Doc.Find(`[data-testid="subscribe-pro"]`).Length() != 1 {
		t.Error("no USD subscribe button")
	}
	if bad := c.Submit("/billing", "/billing/checkout", url.Values{"kind": {"plan"}, "key": {"pro"}, "currency": {"gbp"}}); bad.Status == http.StatusSeeOther {
		t.Fatalf("GBP checkout of a plan without a GBP price: %d", bad.Status)
	}
	co := c.Submit("/billing", "/billing/checkout", url.Values{"kind": {"plan"}, "key": {"pro"}, "currency": {"eur"}})
	loc := co.Header.Get("Location")
	if co.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/checkout/test/") {
		t.Fatalf("EUR checkout: %d %q", co.Status, loc)
	}
	if page := c.Get(loc); !strings.Contains(page.Body, "€45.00") {
		t.Errorf("the test checkout page does not show €45.00")
	}
	c.Submit(loc, loc, url.Values{})
	b := c.Get("/billing")
	if text(b, `[data-testid="current-plan"]`) != "Pro" {
		t.Fatalf("after subscribing in EUR: plan %q", text(b, `[data-testid="current-plan"]`))
	}
	if got := text(b, `[data-testid="payments"]`); !strings.Contains(got, "€45.00") {
		t.Errorf("payments = %q, want one of €45.00", got)
	}
	// The renewal is billed in the subscription's currency too.
	if p := c.Submit("/billing", "/billing/test/subscription", url.Values{"action": {"renew"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("renew: %d", p.Status)
	}
	if got := text(c.Get("/billing"), `[data-testid="payments"]`); strings.Count(got, "€45.00") != 2 || strings.Contains(got, "$49.00") {
		t.Errorf("payments after renewal = %q, want two of €45.00", got)
	}
}
