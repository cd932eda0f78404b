package web_test

import (
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
