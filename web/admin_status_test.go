package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestSuspendedCustomerSeesTheReasonOnSignIn(t *testing.T) {
	a := newAdminEnv(t)
	if n := a.cust.Get("/").Doc.Find(`[data-testid="account-status-banner"]`).Length(); n != 0 {
		t.Fatal("banner on an active account")
	}
	if r := a.post("status", url.Values{"status": {"suspended"}, "reason": {"chargeback under review"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("suspend: %d", r.Status)
	}
	// A fresh sign-in lands on the overview, which carries the banner; so does every page.
	fresh := a.Client(t)
	if p := fresh.Login("alice-"+a.tok+"@example.com", "long-enough-pw"); p.Status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", p.Status)
	}
	for _, path := range []string{"/", "/usage", "/billing", "/api-keys"} {
		p := fresh.Get(path)
		if p.Status != http.StatusOK || !strings.Contains(p.Doc.Find(`[data-testid="suspension-reason"]`).Text(), "chargeback under review") {
			t.Errorf("GET %s (%d): no suspension reason", path, p.Status)
		}
	}
	if n := a.adm.Get(a.page()).Doc.Find(`[data-testid="account-status-banner"]`).Length(); n != 0 {
		t.Error("the console shows the customer's banner")
	}
	a.post("status", url.Values{"status": {"active"}, "reason": {"resolved"}})
	if n := fresh.Get("/").Doc.Find(`[data-testid="account-status-banner"]`).Length(); n != 0 {
		t.Error("banner after reinstating")
	}
}
