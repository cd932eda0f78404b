package web_test

import (
	"net/http"
	"net/url"
	"testing"
)

// The dunning mail's link (GET /billing/portal) leads through sign-in to a fresh portal
// session, as the Manage billing button does.
func TestPortalLinkFromMail(t *testing.T) {
	env := billingEnv(t)
	c := env.Client(t)
	if p := c.Get("/billing/portal"); p.Status != http.StatusSeeOther && p.Status != http.StatusFound {
		t.Fatalf("signed out: status %d", p.Status)
	} else if loc := p.Header.Get("Location"); loc != "/login?next="+url.QueryEscape("/billing/portal") {
		t.Fatalf("signed out: to %q, want sign-in and back", loc)
	}
	c.SignUp("Dee", "dee-dunning@example.com", "long-enough-pw")
	c.Submit("/billing", "/billing/checkout", url.Values{"kind": {"pack"}, "key": {"starter"}}) // makes the provider customer
	p := c.Get("/billing/portal")
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/billing?portal=test" {
		t.Fatalf("signed in: status %d to %q, want the portal session", p.Status, p.Header.Get("Location"))
	}
}
