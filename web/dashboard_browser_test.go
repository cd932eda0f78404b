package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/web/browsertest"
	"creditline/web/webtest"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// eval runs JavaScript in the page (awaiting a promise) and decodes its result.
func eval(b *browsertest.Browser, js string, res any) {
	b.Run(chromedp.Evaluate(js, res, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
}

// waitJS waits until a JavaScript expression is truthy.
// 30 s: under the whole suite's load on two cores a swap has been seen to take over 15 s.
func waitJS(b *browsertest.Browser, js string) {
	b.WaitTrue(js, 30*time.Second)
}

func signIn(b *browsertest.Browser, email, password string) {
	b.Open("/login")
	b.Fill(`#f-email`, email)
	b.Fill(`#f-password`, password)
	b.Click(`[data-testid="login-form"] button[type="submit"]`)
	b.WaitVisible(`[data-testid="balance"]`)
	b.CheckA11y("overview")
}

// TestBrowserDashboard signs in as the demo customer in headless Chromium at desktop and phone
// widths and goes through every dashboard page, saving a screenshot of each.
func TestBrowserDashboard(t *testing.T) {
	env := webtest.Start(t)
	acc := seedDemo(t, env)
	ctx := context.Background()
	for _, w := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		t.Run(w.name, func(t *testing.T) {
			b := browsertest.New(t, env.URL, w.width, w.height)
			signIn(b, "demo@creditline.test", "demo-password")

			// Overview: the balance, as the ledger has it.
			bal, err := env.Svc.Balance(ctx, acc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := b.Text(`[data-testid="balance"]`); got != bal.Available.Display() {
				t.Fatalf("overview balance %q, want %q", got, bal.Available.Display())
			}
			b.WaitVisible(`[data-testid="usage-chart"] svg`)
			if n := count(b, `[data-testid="recent-row"]`); n != 10 {
				t.Fatalf("%d recent rows", n)
			}
			b.Screenshot("dashboard-overview-" + w.name)

			// Prices: typing in the estimator updates the credits (gpt-4o on Pro: ×0.9).
			b.Open("/prices")
			b.WaitVisible(`[data-testid="estimate-credits"]`)
			before := b.Text(`[data-testid="estimate-credits"]`)
			b.Fill(`#est-input_tokens`, "20000")
			want := estimateOf(t, env, acc.ID, "chat.completion", "gpt-4o", "input_tokens", "20000", "output_tokens", "500")
			waitJS(b, `document.querySelector('[data-testid="estimate-credits"]').textContent.trim() === `+strconv.Quote(want))
			if want == before {
				t.Fatalf("the estimate did not change: %s", want)
			}
			if c := b.Text(`[data-testid="estimate-covers"]`); !strings.Contains(c, "covers ≈") {
				t.Fatalf("covers: %q", c)
			}
			b.Screenshot("dashboard-prices-" + w.name)
			// Another action swaps the fields: images for image.generate.
			b.Run(chromedp.SetValue(`#est-action`, "image.generate", chromedp.ByQuery),
				chromedp.Evaluate(`document.querySelector('#est-action').dispatchEvent(new Event('change', {bubbles: true}))`, nil))
			b.WaitVisible(`#est-images`)
			waitJS(b, `document.querySelector('[data-testid="estimate-credits"]') !== null`)
			// Typed only once htmx has processed the swapped-in field (its triggers bound):
			// typed before, no request goes out, which no person typing could hit.
			waitJS(b, `(() => { const e = document.querySelector('#est-images'); const d = e && e['htmx-internal-data']; return !!(d && d.initHash) })()`)
			b.Fill(`#est-images`, "3")
			want = estimateOf(t, env, acc.ID, "image.generate", "sdxl", "images", "3")
			waitJS(b, `document.querySelector('[data-testid="estimate-credits"]').textContent.trim() === `+strconv.Quote(want))
			b.CheckA11y("prices, image estimate")

			// Usage: load more rows, expand one.
			b.Open("/usage")
			b.WaitVisible(`[data-testid="usage-list"]`)
			if n := count(b, `[data-testid="usage-row"]`); n != 50 {
				t.Fatalf("%d rows on the first page", n)
			}
			b.Click(`[data-testid="load-more"]`)
			waitJS(b, `document.querySelectorAll('[data-testid="usage-row"]').length === 100`)
			b.Click(`[data-testid="usage-row"]:nth-child(51) summary`)
			b.WaitVisible(`[data-testid="usage-row"]:nth-child(51) [data-testid="usage-detail"]`)
			if key := b.Text(`[data-testid="usage-row"]:nth-child(51) [data-testid="idempotency-key"]`); !strings.HasPrefix(key, "demo-") {
				t.Fatalf("expanded row shows key %q", key)
			}
			b.CheckA11y("usage, row expanded")
			b.Screenshot("dashboard-usage-" + w.name)

			// CSV of a filtered view, fetched with the browser's session: exactly those rows.
			b.Open("/usage?action=image.generate")
			b.WaitVisible(`[data-testid="export-csv"]`)
			var href, body string
			b.Run(chromedp.AttributeValue(`[data-testid="export-csv"]`, "href", &href, nil, chromedp.ByQuery))
			eval(b, `fetch(`+strconv.Quote(href)+`).then(r => r.text())`, &body)
			checkCSV(t, env, acc.ID, body, "image.generate")

			// API keys: create one (shown once), use it, revoke it.
			b.Open("/api-keys")
			b.Fill(`#key-name`, "browser "+w.name)
			b.Click(`[data-testid="create-key"]`)
			secret := b.Text(`[data-testid="new-key-secret"]`)
			if !strings.HasPrefix(secret, "ak_") {
				t.Fatalf("new key %q", secret)
			}
			b.CheckA11y("api keys, new key shown")
			b.Screenshot("dashboard-apikeys-" + w.name)
			api := env.PlatformKey(t).WithKey(secret)
			if r := api.Do(http.MethodGet, "/api/v1/accounts/"+acc.ID+"/balance", nil); r.Status != 200 {
				t.Fatalf("the new key does not work: %d %s", r.Status, r.Raw)
			}
			row := `[data-testid="key-row"]:first-child`
			b.Click(row + ` [data-testid="revoke-open"]`)
			b.WaitVisible(row + ` [data-testid="revoke-key"]`)
			b.CheckA11y("api keys, revoke open")
			b.Screenshot("dashboard-apikeys-revoke-" + w.name)
			b.Click(row + ` [data-testid="revoke-key"]`)
			b.WaitVisible(`[data-testid="flash"]`)
			b.CheckA11y("api keys, revoked")
			if s := b.Text(row + ` [data-testid="key-status"]`); !strings.HasPrefix(s, "Revoked") {
				t.Fatalf("status after revoke %q", s)
			}
			if r := api.Do(http.MethodGet, "/api/v1/accounts/"+acc.ID+"/balance", nil); r.Status != 401 {
				t.Fatalf("the revoked key still works: %d", r.Status)
			}
		})
	}
}

// TestBrowserEstimatorByKeyboard tabs from the top of the prices page and reaches every
// estimator field and its button, then types a quantity without the mouse.
func TestBrowserEstimatorByKeyboard(t *testing.T) {
	env := webtest.Start(t)
	acc := seedDemo(t, env)
	b := browsertest.New(t, env.URL, 1280, 900)
	signIn(b, "demo@creditline.test", "demo-password")
	b.Open("/prices")
	b.WaitVisible(`[data-testid="estimate-credits"]`)
	// The "≈ N more" figure explains itself on keyboard focus.
	b.Open("/")
	b.Run(chromedp.Focus(`[aria-describedby="buys-why"]`, chromedp.ByQuery))
	b.WaitVisible(`#buys-why`)
	if tip := b.Text(`#buys-why`); !strings.Contains(tip, "most used action") {
		t.Fatalf("tooltip %q", tip)
	}
	b.CheckA11y("overview, tooltip open")
	b.Screenshot("dashboard-overview-tooltip")
	b.Open("/prices")
	b.WaitVisible(`[data-testid="estimate-credits"]`)
	seen := map[string]bool{}
	var order []string
	for range 40 {
		b.Run(chromedp.KeyEvent(kb.Tab))
		var id string
		eval(b, `(document.activeElement.id || document.activeElement.getAttribute('data-testid') || document.activeElement.tagName)`, &id)
		seen[id] = true
		order = append(order, id)
		if id == "estimate-submit" {
			break
		}
	}
	for _, id := range []string{"est-action", "est-model", "est-input_tokens", "est-output_tokens", "estimate-submit"} {
		if !seen[id] {
			t.Fatalf("tab never reached %s; order %v", id, order)
		}
	}
	// Focus the input tokens by keyboard and type: the estimate follows.
	b.Run(chromedp.Focus(`#est-input_tokens`, chromedp.ByQuery),
		chromedp.Evaluate(`document.activeElement.select()`, nil),
		chromedp.KeyEvent("4000"))
	want := estimateOf(t, env, acc.ID, "chat.completion", "gpt-4o", "input_tokens", "4000", "output_tokens", "500")
	waitJS(b, `document.querySelector('[data-testid="estimate-credits"]').textContent.trim() === `+strconv.Quote(want))
	// Enter on a usage row's summary opens it.
	b.Open("/usage")
	b.Run(chromedp.Focus(`[data-testid="usage-row"] summary`, chromedp.ByQuery), chromedp.KeyEvent(kb.Enter))
	b.WaitVisible(`[data-testid="usage-row"] [data-testid="usage-detail"]`)
}

func count(b *browsertest.Browser, sel string) int {
	var n int
	eval(b, `document.querySelectorAll(`+strconv.Quote(sel)+`).length`, &n)
	return n
}

// estimateOf is what the pricing engine says, as the page displays it.
func estimateOf(t *testing.T, env *webtest.Env, accountID, action, model string, qs ...string) string {
	t.Helper()
	q := map[string]billing.Quantity{}
	for i := 0; i < len(qs); i += 2 {
		q[qs[i]] = billing.MustQuantity(qs[i+1])
	}
	attrs := map[string]string{}
	if model != "" {
		attrs["model"] = model
	}
	e, err := env.Svc.Estimate(context.Background(), accountID, action, q, attrs, false)
	if err != nil {
		t.Fatal(err)
	}
	return e.Quote.Credits.Display()
}

// checkCSV compares an export with the account's events of that action, row for row.
func checkCSV(t *testing.T, env *webtest.Env, accountID, body, action string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, body)
	}
	want, err := env.Svc.UsagePage(context.Background(), billing.UsageFilter{AccountID: accountID, Action: action, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(want)+1 || recs[0][0] != "occurred_at" {
		t.Fatalf("csv has %d rows, want a header and %d", len(recs), len(want))
	}
	for i, e := range want {
		r := recs[i+1]
		if r[1] != e.ID || r[2] != action || r[6] != e.Credits.String() || r[8] != e.IdempotencyKey {
			t.Fatalf("row %d = %v, want event %s (%s credits, key %s)", i, r, e.ID, e.Credits, e.IdempotencyKey)
		}
	}
	if len(want) == 0 {
		t.Fatal(fmt.Sprintf("no %s events to export", action))
	}
}
