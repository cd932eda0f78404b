package web_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"creditline/web/browsertest"
	"creditline/web/webtest"
)

// TestBrowserLimitsAndNotifications goes through the limits page and the notification centre
// in headless Chromium at desktop and phone widths: a bad limit keeps focus on the field in
// error, a good one shows the bar; pausing asks first and then shows the banner on every page
// until resumed; marking a notification read (htmx) updates the row and the bell in place.
func TestBrowserLimitsAndNotifications(t *testing.T) {
	env := webtest.Start(t)
	demo := seedDemo(t, env)
	addNotifications(t, env, demo.ID, 3)
	for _, w := range []struct {
		name          string
		width, height int
	}{{"1280", 1280, 900}, {"390", 390, 844}} {
		t.Run(w.name, func(t *testing.T) {
			b := browsertest.New(t, env.URL, w.width, w.height)
			signIn(b, "demo@creditline.test", "demo-password")
			b.Open("/limits")

			// Keyboard: the field in error has the focus after the re-render.
			b.Fill(`#f-spend-limit`, "plenty")
			b.Click(`[data-testid="save-limit"]`)
			b.WaitVisible(`[data-testid="error-spend_limit"]`)
			b.CheckA11y("limits with an error")
			var focused string
			eval(b, `document.activeElement && document.activeElement.id`, &focused)
			if focused != "f-spend-limit" {
				t.Fatalf("focus on %q after the error, want the spend limit field", focused)
			}
			b.Screenshot("limits-error-" + w.name)

			b.Fill(`#f-spend-limit`, "100000")
			b.Click(`input[name="spend_limit_mode"][value="soft"]`)
			b.Click(`[data-testid="save-limit"]`)
			b.WaitVisible(`[role="progressbar"]`)
			b.CheckA11y("limits saved")
			if of := b.Text(`[data-testid="limits-of"]`); !strings.Contains(of, "100,000") || !strings.Contains(of, "soft") {
				t.Fatalf("limit shown as %q", of)
			}
			b.Screenshot("limits-" + w.name)

			b.Click(`[data-testid="pause-switch"]`)
			b.WaitVisible(`[data-testid="confirm"]`)
			b.CheckA11y("pause confirmation")
			b.Screenshot("limits-pause-confirm-" + w.name)
			b.Click(`[data-testid="confirm-submit"]`)
			b.WaitVisible(`[data-testid="account-status-banner"]`)
			var checked string
			eval(b, `document.querySelector('[data-testid="pause-switch"]').getAttribute('aria-checked')`, &checked)
			if checked != "true" {
				t.Fatalf("switch aria-checked %q after pausing", checked)
			}
			b.Screenshot("limits-paused-" + w.name)
			b.Open("/usage")
			b.WaitVisible(`[data-testid="account-status-banner"] [data-testid="resume-link"]`)
			b.Click(`[data-testid="resume-link"]`)
			b.WaitVisible(`[data-testid="pause-switch"][aria-checked="true"]`)
			b.Click(`[data-testid="pause-switch"]`)
			b.WaitVisible(`[data-testid="confirm"]`)
			b.Click(`[data-testid="confirm-submit"]`)
			b.WaitVisible(`[data-testid="pause-switch"][aria-checked="false"]`)
			var banners int
			eval(b, `document.querySelectorAll('[data-testid="account-status-banner"]').length`, &banners)
			if banners != 0 {
				t.Fatal("the paused banner stays after resuming")
			}
			b.Click(`[data-testid="clear-limit"]`)
			// The resume left a flash on the page: wait for the clear's own answer to finish loading.
			waitURL(t, b, func(u string) bool { return strings.Contains(u, "done=cleared") })
			waitJS(b, `document.readyState === "complete"`)
			b.WaitVisible(`[data-testid="flash"]`)

			b.Open("/notifications")
			var label string
			eval(b, `document.querySelector('[data-testid="bell"]').getAttribute('aria-label')`, &label)
			unread, _ := strconv.Atoi(strings.Fields(strings.TrimPrefix(label, "Notifications, "))[0])
			if unread == 0 {
				t.Fatalf("bell %q", label)
			}
			b.Screenshot("notifications-" + w.name)
			b.Click(`[data-testid="notification"] [data-testid="mark-read"]`)
			want := fmt.Sprintf("Notifications, %d unread", unread-1)
			if unread == 1 {
				want = "Notifications, none unread"
			}
			waitJS(b, `document.querySelector('[data-testid="bell"]').getAttribute('aria-label') === `+strconv.Quote(want))
			waitJS(b, `document.querySelector('[data-testid="notification"]').dataset.read === 'true'`)
			b.CheckA11y("notification marked read")
			if w.name == "390" {
				b.Click(`[data-testid="mark-all-read"]`)
				b.WaitVisible(`[data-testid="bell"][aria-label="Notifications, none unread"]`)
			}
		})
	}
}
