package web_test

import (
	"context"
	"strings"
	"testing"

	"creditline/billing"
	"creditline/web/browsertest"
	"creditline/web/webtest"
)

// TestBrowserAlertsPage: the rules page at desktop and phone widths (axe on each state):
// a bad threshold shows its error beside the field with the focus on it, a good rule is
// added; and the unsubscribe link's confirm page, signed out.
func TestBrowserAlertsPage(t *testing.T) {
	env := webtest.Start(t)
	demo := seedDemo(t, env)
	for _, size := range []struct {
		name string
		w, h int
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		t.Run(size.name, func(t *testing.T) {
			b := browsertest.New(t, env.URL, size.w, size.h)
			signIn(b, "demo@creditline.test", "demo-password")
			b.Open("/limits/alerts")
			b.WaitVisible(`[data-testid="alert-rules"]`)
			b.Screenshot("alerts-" + size.name)
			b.Fill(`#alert-threshold`, "lots")
			b.Click(`[data-testid="add-alert"]`)
			b.WaitVisible(`[data-testid="error-threshold"]`)
			b.CheckA11y("alerts, threshold error")
			var id string
			eval(b, `document.activeElement ? document.activeElement.id : ""`, &id)
			if id != "alert-threshold" {
				t.Errorf("focus on %q after a bad threshold, want alert-threshold", id)
			}
			b.Screenshot("alerts-error-" + size.name)
			b.Fill(`#alert-threshold`, "42")
			b.Click(`[data-testid="add-alert"]`)
			// The error's flash is already there: wait for the page the save redirects to.
			waitURL(t, b, func(u string) bool { return strings.Contains(u, "done=") })
			b.WaitVisible(`[data-testid="flash"]`)
			if txt := b.Text(`[data-testid="alert-rules"]`); !strings.Contains(txt, "below 42 credits") {
				t.Fatalf("the new rule is not listed: %q", txt)
			}
		})
	}
	rules, err := env.Svc.AlertRules(context.Background(), demo.ID)
	if err != nil || len(rules) == 0 {
		t.Fatal(rules, err)
	}
	b := browsertest.New(t, env.URL, 390, 844)
	b.Open("/alerts/unsubscribe?token=" + env.Svc.UnsubscribeToken(demo.ID, rules[0].ID))
	b.WaitVisible(`[data-testid="unsubscribe-form"]`)
	b.Screenshot("alerts-unsubscribe-phone")
	b.Click(`[data-testid="unsubscribe-form"] button[type="submit"]`)
	b.WaitVisible(`[data-testid="unsubscribed"]`)
	if r, _ := env.Store.AlertRuleByID(context.Background(), demo.ID, rules[0].ID); r.HasChannel(billing.ChannelEmail) {
		t.Fatalf("email still on after unsubscribing: %v", r.Channels)
	}
}
