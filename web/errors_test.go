package web_test

import (
	"net/http"
	"strings"
	"testing"

	"creditline/web/webtest"
)

// An htmx request that fails gets the error as a fragment for the region that asked, never a
// whole page inside the page; a plain request gets the page.
func TestErrorOfAnHTMXRequestIsAFragment(t *testing.T) {
	env := webtest.Start(t)
	c := env.Client(t)
	c.SignUp("Hal", "hal-htmx@example.com", "long-enough-pw")
	page := c.Get("/billing/recharges/rch_missing")
	if page.Status != http.StatusNotFound || page.Doc.Find(`html [data-testid="error-page"]`).Length() != 1 {
		t.Fatalf("plain request: %d\n%s", page.Status, page.Body)
	}
	frag := c.GetHX("/billing/recharges/rch_missing")
	if frag.Status != http.StatusNotFound {
		t.Fatalf("htmx request: %d", frag.Status)
	}
	if strings.Contains(strings.ToLower(frag.Body), "<html") || strings.Contains(frag.Body, `data-testid="error-page"`) {
		t.Errorf("htmx request got a page:\n%s", frag.Body)
	}
	if msg := frag.Doc.Find(`[data-testid="error-fragment"]`).Text(); !strings.Contains(msg, "No such recharge.") {
		t.Errorf("fragment %q\n%s", msg, frag.Body)
	}
}
