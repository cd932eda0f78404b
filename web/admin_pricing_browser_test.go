package web_test

import (
	"strings"
	"testing"

	"creditline/web/browsertest"
)

// TestBrowserPriceChange: an operator opens a draft, raises gpt-4o's output price 20%, reads
// the diff, runs the simulation and publishes; the customer's prices page and estimate show
// the new price. Screenshots at desktop and phone widths; axe on every page.
func TestBrowserPriceChange(t *testing.T) {
	a := newAdminEnv(t)
	keepCatalog(t, a.Env)
	for _, w := range []struct {
		name           string
		width, height  int
		price, typical string // gpt-4o output per 1k tokens raised 20%; a 1k in + 1k out request
	}{{"390", 390, 844, "12", "14.5"}, {"1280", 1280, 900, "14.4", "16.9"}} {
		t.Run(w.name, func(t *testing.T) {
			b := browsertest.New(t, a.URL, w.width, w.height)
			signIn(b, a.boss, "admin-password")
			b.Open("/admin/pricing")
			b.WaitVisible(`[data-testid="live-version"]`)
			before := strings.TrimSpace(b.Text(`[data-testid="live-version-number"]`))
			b.CheckA11y("admin pricing")
			b.Screenshot("admin-pricing-" + w.name)
			b.Click(`[data-testid="new-draft"]`)
			b.WaitVisible(`[data-testid="rate-chat-gpt-4o"]`)
			b.Click(`[data-testid="rate-chat-gpt-4o"] summary`)
			b.Fill(`#f-rates-chat-gpt-4o-components-output_tokens-price`, w.price)
			b.Screenshot("admin-price-draft-editing-" + w.name)
			b.Click(`[data-testid="rate-chat-gpt-4o"] [data-testid="save-rate"]`)
			b.WaitVisible(`[data-testid="rate-chat-gpt-4o"] [data-testid="rate-saved"]`)
			b.WaitVisible(`[data-testid="changes"]`) // the diff reloads on draft-changed
			if got := b.Text(`[data-testid="changes"]`); !strings.Contains(got, " → "+w.price+" per 1k tokens") {
				t.Fatalf("diff = %q", got)
			}
			if got := b.Text(`[data-testid="impact-chat-gpt-4o"]`); !strings.Contains(got, w.typical) {
				t.Fatalf("typical gpt-4o request = %q", got)
			}
			b.Click(`[data-testid="run-simulation"]`)
			b.WaitVisible(`[data-testid="sim-result"]`)
			b.CheckA11y("price draft")
			b.Screenshot("admin-price-draft-" + w.name)
			b.Fill(`#publish-reason`, "gpt-4o output +20% ("+w.name+")")
			b.Click(`[data-testid="publish"]`)
			b.WaitVisible(`[data-testid="live-version"]`)
			if after := strings.TrimSpace(b.Text(`[data-testid="live-version-number"]`)); after == before {
				t.Fatalf("live version still %s after publishing", after)
			}
			b.CheckA11y("admin pricing after publish")
			b.Open("/admin/plans")
			b.WaitVisible(`[data-testid="plans"]`)
			b.Click(`[data-testid="pack-growth"] summary`)
			b.WaitVisible(`[data-testid="form-pack:growth"]`)
			b.CheckA11y("admin plans")
			b.Screenshot("admin-plans-" + w.name)

			c := browsertest.New(t, a.URL, w.width, w.height)
			signIn(c, "alice-"+a.tok+"@example.com", "long-enough-pw")
			c.Open("/prices")
			c.WaitVisible(`[data-testid="price-row"]`)
			if got := c.Text(`main`); !strings.Contains(got, w.price+" per 1k tokens") {
				t.Errorf("prices page does not show the new price: %q", got)
			}
			c.CheckA11y("prices")
			c.Screenshot("customer-prices-after-price-change-" + w.name)
			c.Open("/prices?action=chat.completion&model=gpt-4o&input_tokens=1000&output_tokens=1000")
			c.WaitVisible(`[data-testid="estimate-credits"]`)
			if got := strings.TrimSpace(c.Text(`[data-testid="estimate-credits"]`)); got != w.typical {
				t.Errorf("estimate for 1k in + 1k out = %q, want %s", got, w.typical)
			}
			c.CheckA11y("prices estimate")
		})
	}
}
