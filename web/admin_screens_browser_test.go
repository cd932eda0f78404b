package web_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"creditline/web/browsertest"
	"creditline/web/webtest"
	"github.com/chromedp/chromedp"
)

// TestBrowserAdminScreens opens every console page at 1280 and 390 px in one browser with
// one sign-in, checks each with axe-core (Open), saves artifacts/screenshots/admin-<page>-<width>.png
// for review, and at 390 px fails when the page scrolls sideways (wide tables must scroll
// inside their own region). On the demo account it also pages the ledger and the usage
// through htmx.
func TestBrowserAdminScreens(t *testing.T) {
	env := webtest.Start(t)
	demo := seedDemo(t, env)
	// Something in every list: a platform key, an audited grant, a sign-up's mail.
	api := env.PlatformKey(t)
	if r := api.Do("POST", "/api/v1/accounts/"+demo.ID+"/grants", map[string]any{"credits": "12.5", "source": "promo",
		"reason": "screenshot goodwill", "idempotency_key": "screens-" + t.Name()}); r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("grant: %d %s", r.Status, r.Raw)
	}
	env.Client(t).SignUp("Screens Person", "screens-"+strconv.FormatInt(time.Now().UnixNano(), 36)+"@example.com", "long-enough-pw")
	pages := []struct{ name, path string }{
		{"overview", "/admin"},
		{"customers", "/admin/customers"},
		{"customers-no-match", "/admin/customers?q=no-such-customer-anywhere"},
		{"customer", "/admin/customers/" + demo.ID},
		{"audit", "/admin/audit"},
		{"api-keys", "/admin/api-keys"},
		{"outbox", "/admin/outbox"},
		{"jobs", "/admin/jobs"},
		{"pricing", "/admin/pricing"},
		{"plans", "/admin/plans"},
		{"abuse", "/admin/abuse"},
		{"revenue", "/admin/revenue"},
		{"reconciliation", "/admin/reconciliation"},
	}

	b := browsertest.New(t, env.URL, 1280, 900)
	b.Open("/login")
	b.Fill(`#f-email`, "admin@creditline.test")
	b.Fill(`#f-password`, "admin-password")
	b.Click(`[data-testid="login-form"] button[type="submit"]`)
	waitURL(t, b, func(u string) bool { return !strings.Contains(u, "/login") })

	for _, w := range []struct{ width, height int64 }{{1280, 900}, {390, 844}} {
		b.Run(chromedp.EmulateViewport(w.width, w.height))
		for _, p := range pages {
			b.Open(p.path)
			b.WaitVisible(`main h1`)
			name := "admin-" + p.name + "-" + strconv.FormatInt(w.width, 10)
			b.Screenshot(name)
			if w.width > 400 {
				continue
			}
			var sizes []int
			eval(b, `[document.documentElement.scrollWidth, window.innerWidth]`, &sizes)
			if len(sizes) != 2 || sizes[0] > sizes[1] {
				var wide string
				eval(b, `[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
					.filter(e => !e.closest('[role="region"]')).slice(0, 5).map(e => e.tagName + "." + e.className).join("\n")`, &wide)
				t.Errorf("%s scrolls sideways at %d px (scrollWidth %v); widest elements:\n%s", p.path, w.width, sizes, wide)
			}
		}
	}

	// The account page's ledger and usage page through htmx, in place, 50 at a time.
	b.Run(chromedp.EmulateViewport(1280, 900))
	b.Open("/admin/customers/" + demo.ID)
	if n := count(b, `[data-testid="ledger-row"]`); n != 50 {
		t.Fatalf("%d ledger rows on the demo account, want a full page of 50", n)
	}
	b.Click(`[data-testid="ledger-more"]`)
	waitJS(b, `document.querySelectorAll('[data-testid="ledger-row"]').length > 50`)
	if n := count(b, `[data-testid="usage-row"]`); n != 50 {
		t.Fatalf("%d usage rows on the demo account, want a full page of 50", n)
	}
	b.Click(`#usage [data-testid="load-more"]`)
	waitJS(b, `document.querySelectorAll('[data-testid="usage-row"]').length > 50`)
	if got := b.Path(); got != "/admin/customers/"+demo.ID {
		t.Errorf("htmx paging left the page for %s", got)
	}
	b.CheckA11y("account page after paging")
	b.Screenshot("admin-customer-paged-1280")
}
