package web_test

import (
	"strings"
	"testing"

	"creditline/web/browsertest"
)

// TestBrowserPlanStripePrices: the plan form's prices per currency with their Stripe price ids;
// a malformed id is refused beside its field. Screenshots at phone and desktop widths; axe on
// the form and on the refused form.
func TestBrowserPlanStripePrices(t *testing.T) {
	a := newAdminEnv(t)
	keepCatalog(t, a.Env)
	for _, w := range []struct {
		name          string
		width, height int
	}{{"390", 390, 844}, {"1280", 1280, 900}} {
		t.Run(w.name, func(t *testing.T) {
			b := browsertest.New(t, a.URL, w.width, w.height)
			signIn(b, a.boss, "admin-password")
			b.Open("/admin/plans")
			b.Click(`[data-testid="plan-pro"] summary`)
			b.WaitVisible(`[data-testid="form-plan:pro"] [data-testid="plan-prices"]`)
			b.Fill(`#f-plan-pro-stripe_monthly_eur`, "price_1ProEur")
			b.Fill(`#f-plan-pro-reason`, "stripe price for EUR")
			b.Screenshot("admin-plan-stripe-prices-" + w.name)
			b.Click(`[data-testid="form-plan:pro"] button[type="submit"]`)
			b.WaitVisible(`[data-testid="form-plan:pro"] [data-testid="error-stripe_monthly_eur"]`)
			if got := b.Text(`[data-testid="form-plan:pro"] [data-testid="error-stripe_monthly_eur"]`); !strings.Contains(got, "EUR price") {
				t.Errorf("error beside the EUR id = %q", got)
			}
			b.CheckA11y("admin plans, refused")
			b.Screenshot("admin-plan-stripe-prices-error-" + w.name)
		})
	}
}
