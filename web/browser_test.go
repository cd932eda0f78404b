package web_test

import (
	"context"
	"strings"
	"testing"

	"creditline/web/browsertest"
	"creditline/web/webtest"
)

// TestBrowserSignUpSignOutSignIn clicks through the auth flow in headless Chromium at desktop
// and phone widths, saving a screenshot of each page.
func TestBrowserSignUpSignOutSignIn(t *testing.T) {
	env := webtest.Start(t)
	for _, w := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		t.Run(w.name, func(t *testing.T) {
			b := browsertest.New(t, env.URL, w.width, w.height)
			email := "browser-" + w.name + "@example.com"

			b.Open("/signup")
			b.WaitVisible(`[data-testid="signup-form"]`)
			b.Screenshot("signup-" + w.name)
			// A bad submit shows the message beside the field.
			b.Fill(`#f-name`, "Browser User")
			b.Fill(`#f-email`, "nope")
			b.Fill(`#f-password`, "short")
			b.Click(`[data-testid="signup-form"] button[type="submit"]`)
			if msg := b.Text(`[data-testid="error-email"]`); !strings.Contains(msg, "valid email") {
				t.Fatalf("email error %q", msg)
			}
			b.CheckA11y("signup with errors")
			b.Screenshot("signup-errors-" + w.name)
			b.Fill(`#f-email`, email)
			b.Fill(`#f-password`, "long-enough-pw")
			b.Click(`[data-testid="signup-form"] button[type="submit"]`)
			b.WaitVisible(`[data-testid="signup-sent"]`)
			b.Open(env.SignupLink(t, email)) // the link mailed to the new user
			b.Fill(`#f-password`, "long-enough-pw")
			b.Click(`[data-testid="confirm-form"] button[type="submit"]`)
			b.WaitVisible(`[data-testid="balance"]`)
			if p := b.Path(); p != "/" {
				t.Fatalf("after sign-up at %s", p)
			}
			b.CheckA11y("overview")
			b.Screenshot("overview-" + w.name)

			if w.name == "phone" {
				b.Click(`[data-menu-toggle="side-nav"]`)
				b.CheckA11y("overview, menu open")
			}
			b.Click(`[data-testid="logout"]`)
			b.WaitVisible(`[data-testid="login-form"]`)
			b.CheckA11y("login")
			b.Screenshot("login-" + w.name)

			b.Fill(`#f-email`, email)
			b.Fill(`#f-password`, "long-enough-pw")
			b.Click(`[data-testid="login-form"] button[type="submit"]`)
			b.WaitVisible(`[data-testid="balance"]`)
			if u, err := env.Store.UserByEmail(context.Background(), email); err != nil || u.Name != "Browser User" {
				t.Fatalf("user %v %v", u, err)
			}
		})
	}
}
