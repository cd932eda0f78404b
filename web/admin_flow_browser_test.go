package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/web/browsertest"
	"creditline/web/webtest"
	"github.com/chromedp/chromedp"
)

// adminSubmit clicks a form's submit and waits for the page the server answers with: the
// confirmation card when confirm is set, else the account page's ?done=<form> redirect.
func adminSubmit(t *testing.T, b *browsertest.Browser, form string, confirm bool) {
	t.Helper()
	markPage(b)
	b.Click(`[data-testid="submit-` + form + `"]`)
	if confirm {
		b.WaitVisible(`[data-testid="confirm"]`)
		b.CheckA11y(form + " confirmation")
		b.Screenshot("admin-flow-" + form + "-confirm")
		markPage(b)
		b.Click(`[data-testid="confirm-submit"]`)
	}
	waitURL(t, b, func(u string) bool { return strings.Contains(u, "done="+form) })
	b.CheckA11y(form + " done")
}

// markPage tags the current document so waitURL can tell the next one from it.
func markPage(b *browsertest.Browser) {
	var done bool
	eval(b, `window.flowOld = true`, &done)
}

// waitURL waits for a loaded document, not markPage's, whose URL satisfies ok, riding out the
// navigation in between (an evaluation during it fails with "Cannot find context").
func waitURL(t *testing.T, b *browsertest.Browser, ok func(url string) bool) {
	t.Helper()
	var loc string
	for range 150 {
		if err := chromedp.Run(b.Ctx, chromedp.Location(&loc)); err == nil && ok(loc) {
			var ready string
			if chromedp.Run(b.Ctx, chromedp.Evaluate(`document.readyState + (window.flowOld ? " (old)" : "")`, &ready)) == nil && ready == "complete" {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Screenshot("failure-" + sanitizeName(t.Name()))
	t.Fatalf("still at %s", loc)
}

// setSelect picks an option of a select by value, as a person choosing it would.
func setSelect(t *testing.T, b *browsertest.Browser, sel, value string) {
	t.Helper()
	var ok bool
	eval(b, `(() => { const s = document.querySelector(`+"`"+sel+"`"+`); s.value = `+"`"+value+"`"+`;
		s.dispatchEvent(new Event("change", {bubbles: true})); return s.value === `+"`"+value+"`"+`; })()`, &ok)
	if !ok {
		t.Fatalf("no option %s in %s", value, sel)
	}
}

// TestBrowserAdminCustomerFlow is the console's "Must show": the demo admin finds the demo
// customer, grants 25 credits (confirmed), revokes 5 of them, sets a hard spend limit,
// suspends and reinstates; after each step the API answers accordingly and /admin/audit lists it.
func TestBrowserAdminCustomerFlow(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	demo := seedDemo(t, env)
	api := env.PlatformKey(t)
	available := func() billing.Credits {
		t.Helper()
		r := api.Do(http.MethodGet, "/api/v1/accounts/"+demo.ID+"/balance", nil)
		c, err := billing.ParseCredits(r.Str("available"))
		if r.Status != http.StatusOK || err != nil {
			t.Fatalf("balance: %d %s", r.Status, r.Raw)
		}
		return c
	}
	audited := func(b *browsertest.Browser, action string) int {
		t.Helper()
		b.Open("/admin/audit?account=" + demo.ID)
		return count(b, `[data-testid="audit-row"][data-action="`+action+`"]`)
	}
	start := available()

	b := browsertest.New(t, env.URL, 1280, 900)
	b.Open("/login")
	b.Fill(`#f-email`, "admin@creditline.test")
	b.Fill(`#f-password`, "admin-password")
	b.Click(`[data-testid="login-form"] button[type="submit"]`)
	waitURL(t, b, func(u string) bool { return !strings.Contains(u, "/login") })
	// What the seed already audited (the demo's sign-up trial grant) is not part of the flow.
	base := map[string]int{}
	for _, action := range []string{billing.AuditGrant, billing.AuditRevoke, billing.AuditAccountUpdate} {
		base[action] = audited(b, action)
	}
	b.Open("/admin/customers")

	// Find the customer by email and open the account page from the result.
	b.Fill(`#customer-q`, "demo@creditline.test")
	b.Click(`[data-testid="customer-search"] button[type="submit"]`)
	waitURL(t, b, func(u string) bool { return strings.Contains(u, "q=") })
	b.CheckA11y("customer search")
	if n := count(b, `[data-testid="customer-row"][data-account="`+demo.ID+`"]`); n != 1 {
		t.Fatalf("search found the demo account %d times", n)
	}
	b.Screenshot("admin-flow-search")
	b.Click(`[data-testid="customer-row"][data-account="` + demo.ID + `"] a`)
	b.WaitVisible(`[data-testid="account-id"]`)
	if got := b.Text(`[data-testid="account-id"]`); got != demo.ID {
		t.Fatalf("account page of %q", got)
	}
	b.CheckA11y("account page")

	// Grant 25 through the confirmation step.
	b.Fill(`#f-grant-credits`, "25")
	b.Fill(`#f-grant-reason`, "flow test goodwill")
	adminSubmit(t, b, "grant", true)
	if got := available(); got != start+billing.MustCredits("25") {
		t.Fatalf("after the grant: %s, want %s + 25", got, start)
	}
	if got := b.Text(`[data-testid="admin-available"]`); !strings.Contains(got, (start + billing.MustCredits("25")).Display()) {
		t.Errorf("page shows %q after the grant", got)
	}
	b.Screenshot("admin-flow-granted")

	// Revoke 5 from that grant.
	var grant string
	eval(b, `[...document.querySelectorAll('[data-testid="admin-grant"]')].find(r => r.textContent.includes("flow test goodwill"))?.dataset.grant ?? ""`, &grant)
	if grant == "" {
		t.Fatal("the new grant is not listed")
	}
	setSelect(t, b, "#f-revoke-grant", grant)
	b.Fill(`#f-revoke-credits`, "5")
	b.Fill(`#f-revoke-reason`, "flow test: five too many")
	adminSubmit(t, b, "revoke", true)
	if got := available(); got != start+billing.MustCredits("20") {
		t.Fatalf("after the revoke: %s, want %s + 20", got, start)
	}

	// A hard spend limit of 0.01 credits: the next usage is refused.
	b.Fill(`#f-spend-limit`, "0.01")
	setSelect(t, b, "#f-spend-mode", "hard")
	b.Fill(`#f-spend-reason`, "flow test: cap spend")
	adminSubmit(t, b, "spend", false)
	if got := b.Text(`[data-testid="admin-spend"]`); !strings.Contains(got, "(hard)") {
		t.Errorf("spend shown as %q", got)
	}
	if r := api.Do(http.MethodPost, "/api/v1/usage", flat(demo.ID, "flow-over-limit")); r.Status != http.StatusPaymentRequired || r.Code() != "spend_limit_reached" {
		t.Fatalf("usage over the limit: %d %s", r.Status, r.Raw)
	}
	b.Fill(`#f-spend-limit`, "")
	b.Fill(`#f-spend-reason`, "flow test: lift the cap")
	adminSubmit(t, b, "spend", false)

	// Suspend: usage is refused with the reason; reinstate: allowed again.
	setSelect(t, b, "#f-status-status", "suspended")
	b.Fill(`#f-status-reason`, "chargeback under review")
	adminSubmit(t, b, "status", false)
	if got := b.Text(`[data-testid="status-reason"]`); !strings.Contains(got, "chargeback under review") {
		t.Errorf("status reason shown as %q", got)
	}
	b.Screenshot("admin-flow-suspended")
	if r := api.Do(http.MethodPost, "/api/v1/usage", flat(demo.ID, "flow-suspended")); r.Status != http.StatusForbidden ||
		r.Code() != "account_suspended" || !strings.Contains(string(r.Raw), "chargeback under review") {
		t.Fatalf("usage while suspended: %d %s", r.Status, r.Raw)
	}
	setSelect(t, b, "#f-status-status", "active")
	b.Fill(`#f-status-reason`, "flow test: review done")
	adminSubmit(t, b, "status", false)
	if r := api.Do(http.MethodPost, "/api/v1/usage", flat(demo.ID, "flow-reinstated")); r.Status != http.StatusCreated {
		t.Fatalf("usage after reinstating: %d %s", r.Status, r.Raw)
	}

	// The audit log lists each step: one grant, one revoke, four account updates.
	for action, want := range map[string]int{billing.AuditGrant: 1, billing.AuditRevoke: 1, billing.AuditAccountUpdate: 4} {
		if got := audited(b, action) - base[action]; got != want {
			t.Errorf("/admin/audit lists %d new %s entries, want %d", got, action, want)
		}
	}
	b.Screenshot("admin-flow-audit")
	if vs, err := env.Svc.Verify(ctx); err != nil || len(vs) != 0 {
		t.Fatalf("ledger verification: %v %+v", err, vs)
	}
}

func sanitizeName(s string) string { return strings.NewReplacer("/", "_", " ", "_").Replace(s) }
