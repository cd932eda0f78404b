package web_test

import (
	"strings"
	"testing"

	"creditline/billing/webhooks"
	"creditline/web/browsertest"
	"creditline/web/webtest"
)

// TestBrowserWebhooksPage adds an endpoint, copies nothing but sees its secret, sends a test
// event and reads the delivery log, then opens the delete confirmation, at desktop and phone
// widths (screenshots for review; axe runs on every page opened).
func TestBrowserWebhooksPage(t *testing.T) {
	env := webtest.Start(t)
	acc := seedDemo(t, env)
	rcv, _ := flakyReceiver(t)
	for _, w := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		t.Run(w.name, func(t *testing.T) {
			b := browsertest.New(t, env.URL, w.width, w.height)
			signIn(b, "demo@creditline.test", "demo-password")
			b.Open("/limits/webhooks")
			b.WaitVisible(`[data-testid="add-endpoint-form"]`)
			b.Screenshot("webhooks-empty-" + w.name)
			b.Fill(`#endpoint-url`, "ftp://bad.example/")
			b.Click(`[data-testid="add-endpoint"]`)
			b.WaitVisible(`[data-testid="error-url"]`)
			var focused string
			eval(b, `document.activeElement ? document.activeElement.id : ""`, &focused)
			if focused != "endpoint-url" {
				t.Errorf("after a bad URL the focus is on %q, want endpoint-url", focused)
			}
			b.CheckA11y("/limits/webhooks (error)")
			b.Screenshot("webhooks-error-" + w.name)
			b.Fill(`#endpoint-url`, rcv.URL+"/"+w.name)
			b.Click(`input[name="events"][value="payment.failed"]`)
			b.Click(`input[name="events"][value="alert.fired"]`)
			b.Click(`[data-testid="add-endpoint"]`)
			b.WaitVisible(`[data-testid="new-endpoint-secret"]`)
			if s := b.Text(`[data-testid="new-endpoint-secret"]`); !strings.HasPrefix(s, "whsec_") {
				t.Fatalf("secret %q", s)
			}
			b.CheckA11y("/limits/webhooks (created)")
			b.Screenshot("webhooks-created-" + w.name)
			b.Click(`[data-endpoint]:last-child [data-testid="send-test"]`)
			b.WaitVisible(`[data-testid="delivery-row"]`)
			ep := strings.TrimPrefix(b.Path(), "/limits/webhooks/")
			waitDeliveries(t, env, acc.ID, ep, func(ds []webhooks.Delivery) bool { return len(ds) == 1 && ds[0].Attempts == 1 })
			b.Open("/limits/webhooks/" + ep)
			b.Click(`[data-testid="delivery-row"] summary`)
			b.WaitVisible(`[data-testid="attempt"]`)
			b.CheckA11y("/limits/webhooks/{id} (attempts open)")
			// "1 attempt" wraps as a whole, never split inside the word (it was at 390 px).
			var boxes int
			eval(b, `document.querySelector('[data-testid="delivery-attempts"]').getClientRects().length`, &boxes)
			if boxes != 1 {
				t.Errorf("the attempt count spans %d line boxes, want 1", boxes)
			}
			b.Screenshot("webhooks-log-" + w.name)
			b.Open("/limits/webhooks")
			b.Click(`[data-endpoint]:last-child [data-testid="delete-open"]`)
			b.WaitVisible(`[data-endpoint]:last-child [data-testid="delete-endpoint"]`)
			b.Screenshot("webhooks-delete-confirm-" + w.name)
		})
	}
}
