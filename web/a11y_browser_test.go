package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"creditline/web/browsertest"
	"creditline/web/webtest"
)

// TestBrowserFocusOnFirstFormError submits forms with mistakes and expects the keyboard focus
// on the first field in error, so a keyboard or screen-reader user lands where to fix it.
func TestBrowserFocusOnFirstFormError(t *testing.T) {
	env := webtest.Start(t)
	seedDemo(t, env)
	b := browsertest.New(t, env.URL, 1280, 900)
	focused := func() string {
		var id string
		eval(b, `document.activeElement ? document.activeElement.id : ""`, &id)
		return id
	}

	// Sign-up: name is fine, email and password are not: focus on the email.
	b.Open("/signup")
	b.Fill(`#f-name`, "Focus User")
	b.Fill(`#f-email`, "nope")
	b.Fill(`#f-password`, "short")
	b.Click(`[data-testid="signup-form"] button[type="submit"]`)
	b.WaitVisible(`[data-testid="error-email"]`)
	if id := focused(); id != "f-email" {
		t.Errorf("after a bad sign-up the focus is on %q, want f-email", id)
	}

	// API keys: a key without a name.
	signIn(b, "demo@creditline.test", "demo-password")
	b.Open("/api-keys")
	b.Click(`[data-testid="create-key"]`)
	b.WaitVisible(`[data-testid="error-name"]`)
	b.CheckA11y("api keys, create error")
	if id := focused(); id != "key-name" {
		t.Errorf("after creating a key without a name the focus is on %q, want key-name", id)
	}
}

// TestBrowserKeyboardSkipLinkAndEscape: the first Tab reaches "Skip to content", which moves
// focus to the page's main region; Escape closes the phone menu and hides a focused tooltip.
func TestBrowserKeyboardSkipLinkAndEscape(t *testing.T) {
	env := webtest.Start(t)
	seedDemo(t, env)
	b := browsertest.New(t, env.URL, 390, 844)
	signIn(b, "demo@creditline.test", "demo-password")
	b.Open("/")
	active := func() string {
		var s string
		eval(b, `(document.activeElement && (document.activeElement.getAttribute("data-testid") || document.activeElement.id)) || ""`, &s)
		return s
	}
	b.Run(chromedp.KeyEvent(kb.Tab))
	if got := active(); got != "skip-link" {
		t.Fatalf("first Tab focuses %q, want the skip link", got)
	}
	b.Run(chromedp.KeyEvent(kb.Enter))
	if got := active(); got != "main" {
		t.Errorf("the skip link moves focus to %q, want main", got)
	}

	b.Click(`[data-menu-toggle="side-nav"]`)
	var expanded string
	eval(b, `document.querySelector("[data-menu-toggle]").getAttribute("aria-expanded")`, &expanded)
	if expanded != "true" {
		t.Fatalf("menu toggle aria-expanded = %q after opening", expanded)
	}
	b.Run(chromedp.KeyEvent(kb.Escape))
	var hidden bool
	eval(b, `document.querySelector("[data-menu-toggle]").getAttribute("aria-expanded") === "false" && document.getElementById("side-nav").classList.contains("hidden")`, &hidden)
	if !hidden {
		t.Errorf("Escape did not close the phone menu")
	}

	var shown, afterEsc bool
	b.Run(chromedp.Focus(`[aria-describedby="buys-why"]`, chromedp.ByQuery))
	eval(b, `getComputedStyle(document.getElementById("buys-why")).display !== "none"`, &shown)
	b.Run(chromedp.KeyEvent(kb.Escape))
	eval(b, `getComputedStyle(document.getElementById("buys-why")).display !== "none"`, &afterEsc)
	if !shown || afterEsc {
		t.Errorf("tooltip shown on focus = %v, still shown after Escape = %v; want true, false", shown, afterEsc)
	}
}
