package web_test

import (
	"strings"
	"testing"

	"creditline/web/browsertest"
	"creditline/web/webtest"
)

// TestBrowserHTMXErrorIsShown: htmx leaves a failed answer unswapped, so the page shows the
// error handler's fragment in its request-error region, and the next request clears it.
func TestBrowserHTMXErrorIsShown(t *testing.T) {
	env := webtest.Start(t)
	seedDemo(t, env)
	b := browsertest.New(t, env.URL, 1280, 900)
	signIn(b, "demo@creditline.test", "demo-password")
	b.Open("/usage")
	var ok bool
	eval(b, `htmx.ajax('GET', '/usage/more?cursor=not-a-cursor', {target: 'main', swap: 'beforeend'}).then(() => true, () => true)`, &ok)
	waitJS(b, `!!document.querySelector('#request-error [data-testid="error-fragment"]')`)
	msg := b.Text(`#request-error [data-testid="error-fragment"]`)
	if !strings.Contains(msg, "Status 400") || len(strings.TrimSpace(msg)) < len("Status 400")+5 {
		t.Fatalf("the region shows %q: want the error's message and its status", msg)
	}
	var role string
	eval(b, `document.querySelector('#request-error [data-testid="error-fragment"]').getAttribute('role')`, &role)
	if role != "alert" {
		t.Fatalf("role %q: the message must be announced", role)
	}
	b.Screenshot("htmx-error")
	b.CheckA11y("htmx error shown")
	eval(b, `htmx.ajax('GET', '/usage/more', {target: 'main', swap: 'beforeend'}).then(() => true, () => true)`, &ok)
	waitJS(b, `document.querySelector('#request-error').children.length === 0`)
}
