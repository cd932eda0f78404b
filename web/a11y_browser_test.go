package web_test

import (
	"testing"

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
