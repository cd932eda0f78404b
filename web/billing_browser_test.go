package web_test

import (
	"context"
	"strings"
	"testing"

	"creditline/billing"
	"creditline/web/browsertest"
)

// TestBrowserBuyGrowthPackInTestMode signs up, buys the growth pack through the test-mode
// checkout and sees the balance rise by 500; it saves the billing page at 1280 and 390 px.
func TestBrowserBuyGrowthPackInTestMode(t *testing.T) {
	env := billingEnv(t)
	for _, w := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		t.Run(w.name, func(t *testing.T) {
			b := browsertest.New(t, env.URL, w.width, w.height)
			b.Open("/signup")
			b.Fill(`#f-name`, "Browser Buyer")
			b.Fill(`#f-email`, "buyer-"+w.name+"@example.com")
			b.Fill(`#f-password`, "long-enough-pw")
			b.Click(`[data-testid="signup-form"] button[type="submit"]`)
			b.WaitVisible(`[data-testid="signup-sent"]`)
			b.Open(env.SignupLink(t, "buyer-"+w.name+"@example.com"))
			b.Fill(`#f-password`, "long-enough-pw")
			b.Click(`[data-testid="confirm-form"] button[type="submit"]`)
			b.WaitVisible(`[data-testid="balance"]`)
			before := billing.MustCredits(strings.ReplaceAll(b.Text(`[data-testid="balance"]`), ",", ""))

			b.Open("/billing")
			b.WaitVisible(`[data-testid="pack-growth"]`)
			b.Screenshot("billing-before-" + w.name)
			b.Click(`[data-testid="buy-growth"]`)
			b.WaitVisible(`[data-testid="no-money"]`)
			if p := b.Path(); !strings.HasPrefix(p, "/checkout/test/") {
				t.Fatalf("at %s, want the test checkout", p)
			}
			b.CheckA11y("test checkout")
			b.Screenshot("checkout-" + w.name)
			b.Click(`[data-testid="pay-test"]`)
			b.WaitVisible(`[data-testid="billing-balance"]`)
			if p := b.Path(); p != "/billing" {
				t.Fatalf("after paying at %s", p)
			}
			b.CheckA11y("billing after payment")
			b.Screenshot("billing-" + w.name)

			b.Open("/")
			after := billing.MustCredits(strings.ReplaceAll(b.Text(`[data-testid="balance"]`), ",", ""))
			if after-before != 500*billing.Credit {
				t.Fatalf("balance %s → %s, want +500", before, after)
			}
		})
	}
}

// TestBrowserSubscribeInEuros: the Pro card offers its EUR price; the customer subscribes in
// EUR through the test-mode checkout and lands on Pro. Screenshots at 1280 and 390 px; axe on
// each page.
func TestBrowserSubscribeInEuros(t *testing.T) {
	env := billingEnv(t)
	keepCatalog(t, env)
	ctx := context.Background()
	pro, err := env.Svc.Plan(ctx, "pro")
	if err != nil {
		t.Fatal(err)
	}
	pro.PriceMonthly = billing.Prices{"usd": 49_00, "eur": 45_00, "gbp": 39_00}
	if err := env.Svc.SavePlanAs(ctx, billing.Op{Actor: billing.UserActor("usr_ops"), Reason: "euro price"}, pro); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		name          string
		width, height int
	}{{"1280", 1280, 900}, {"390", 390, 844}} {
		t.Run(w.name, func(t *testing.T) {
			email := "euro-" + w.name + "@example.com"
			env.Client(t).SignUp("Euro "+w.name, email, "long-enough-pw")
			b := browsertest.New(t, env.URL, w.width, w.height)
			signIn(b, email, "long-enough-pw")
			b.Open("/billing")
			b.WaitVisible(`[data-testid="subscribe-pro-eur"]`)
			b.Screenshot("billing-plan-currencies-" + w.name)
			b.Click(`[data-testid="subscribe-pro-eur"]`)
			b.WaitVisible(`[data-testid="no-money"]`)
			if got := b.Text(`main`); !strings.Contains(got, "€45.00") {
				t.Fatalf("test checkout does not show €45.00: %q", got)
			}
			b.CheckA11y("test checkout in EUR")
			b.Screenshot("checkout-plan-eur-" + w.name)
			b.Click(`[data-testid="pay-test"]`)
			b.WaitVisible(`[data-testid="billing-balance"]`)
			if got := strings.TrimSpace(b.Text(`[data-testid="current-plan"]`)); got != "Pro" {
				t.Fatalf("plan after subscribing in EUR = %q", got)
			}
			b.CheckA11y("billing after subscribing in EUR")
		})
	}
}
