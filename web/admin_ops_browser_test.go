package web_test

import (
	"net/url"
	"strings"
	"testing"

	"creditline/web/browsertest"
)

// TestBrowserAdminOpsPages opens the overview, keys, jobs and a settle on the account page at
// desktop and phone widths (screenshots for review), and the customer's suspension banner.
func TestBrowserAdminOpsPages(t *testing.T) {
	a := newAdminEnv(t)
	a.intoDebt()
	a.failedJob("mail.send." + a.tok)
	a.adm.Submit("/admin/api-keys", "/admin/api-keys", url.Values{"name": {"billing backend"}})
	for _, w := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		t.Run(w.name, func(t *testing.T) {
			b := browsertest.New(t, a.URL, w.width, w.height)
			signIn(b, a.boss, "admin-password")
			b.Open("/admin")
			b.WaitVisible(`[data-testid="usage-chart"] svg`)
			b.Screenshot("admin-overview-" + w.name)
			b.Open("/admin/api-keys")
			b.WaitVisible(`[data-testid="key-row"]`)
			b.Screenshot("admin-api-keys-" + w.name)
			b.Click(`[data-testid="revoke-key"]`)
			b.WaitVisible(`[data-testid="confirm"]`)
			b.Screenshot("admin-api-keys-confirm-" + w.name)
			b.Open("/admin/jobs")
			b.WaitVisible(`[data-testid="jobs-failed"]`)
			b.Screenshot("admin-jobs-" + w.name)
			b.Open("/admin/customers/" + a.acc.ID)
			b.Fill(`#f-settle-paid`, "30")
			b.Fill(`#f-settle-reason`, "invoice paid")
			b.Click(`[data-testid="submit-settle"]`)
			b.WaitVisible(`[data-testid="confirm"]`)
			b.Screenshot("admin-settle-confirm-" + w.name)
		})
	}
	a.post("status", url.Values{"status": {"suspended"}, "reason": {"chargeback under review"}})
	b := browsertest.New(t, a.URL, 390, 844)
	signIn(b, "alice-"+a.tok+"@example.com", "long-enough-pw")
	b.WaitVisible(`[data-testid="account-status-banner"]`)
	if got := b.Text(`[data-testid="suspension-reason"]`); !strings.Contains(got, "chargeback under review") {
		t.Fatalf("banner reason %q", got)
	}
	b.Screenshot("customer-suspended-phone")
}
