package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/revenue"
	"creditline/store"
	"creditline/store/pgtest"
	"creditline/web/browsertest"
	"creditline/web/webtest"
	"github.com/chromedp/chromedp"
)

// vendorFiles writes a vendor export of the demo's last days, from the recorded rollup, with
// one model-day's cost 5% over, and a malformed one.
func vendorFiles(t *testing.T, env *webtest.Env) (good, bad string) {
	t.Helper()
	ctx := context.Background()
	if _, err := revenue.New(env.Store.Revenue(), env.Svc.Now).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	now := env.Svc.Now()
	rec, err := env.Store.Reconcile().RecordedBetween(ctx, now.AddDate(0, 0, -4), now)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("day,model,units,cost\n")
	n := 0
	for _, r := range rec {
		if r.Model == "" {
			continue
		}
		cost := r.CostMicro
		if n == 2 {
			cost += cost / 20
		}
		n++
		fmt.Fprintf(&b, "%s,%s,%d,%d.%06d\n", r.Day.Format(time.DateOnly), r.Model, r.Units, cost/1_000_000, cost%1_000_000)
	}
	if n < 4 {
		t.Fatalf("only %d recorded model-days in the demo's last days", n)
	}
	dir := t.TempDir()
	good, bad = filepath.Join(dir, "vendor-usage.csv"), filepath.Join(dir, "vendor-broken.csv")
	if err := os.WriteFile(good, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("day,model,units,cost\n2026-11-01,gpt-4o,12,1.50\n2026-11-02,gpt-4o,twelve,1.50\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return good, bad
}

// TestBrowserRevenueAndReconciliation goes through the revenue page and a vendor import on
// the demo at 1280 and 390 px, with axe-core on every state: a malformed file is refused with
// its line (focus on the file field), a file with one model-day 5% over flags exactly that one.
func TestBrowserRevenueAndReconciliation(t *testing.T) {
	// Seed before any worker runs: the demo's history grants have expiry jobs already due,
	// which a running worker would apply at today's date (see billing/seed_revenue.go).
	if _, err := billing.NewService(store.New(pgtest.DB(t)), billing.Options{}).SeedDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	env := webtest.Start(t)
	seedDemo(t, env)
	good, bad := vendorFiles(t, env)
	b := browsertest.New(t, env.URL, 1280, 900)
	b.Open("/login")
	b.Fill(`#f-email`, "admin@creditline.test")
	b.Fill(`#f-password`, "admin-password")
	b.Click(`[data-testid="login-form"] button[type="submit"]`)
	waitURL(t, b, func(u string) bool { return !strings.Contains(u, "/login") })

	for i, w := range []struct {
		name          string
		width, height int64
	}{{"1280", 1280, 900}, {"390", 390, 844}} {
		b.Run(chromedp.EmulateViewport(w.width, w.height))
		b.Open("/admin/revenue")
		b.WaitVisible(`[data-testid="revenue-chart-usd"]`)
		if n := count(b, `[data-testid="revenue-row"][data-currency="usd"]`); n != 12 {
			t.Errorf("%d usd months on the revenue page, want 12", n)
		}
		b.Screenshot("revenue-" + w.name)
		b.Open("/admin")
		b.WaitVisible(`[data-testid="overview-margin"]`)
		b.Screenshot("admin-overview-finance-" + w.name)

		b.Open("/admin/reconciliation")
		if i == 0 {
			b.Run(chromedp.SetUploadFiles(`#vendor-file`, []string{bad}, chromedp.ByQuery))
			b.Click(`[data-testid="vendor-form"] button[type="submit"]`)
			b.WaitVisible(`[data-testid="error-file"]`)
			b.CheckA11y("reconciliation, refused file")
			if msg := b.Text(`[data-testid="error-file"]`); !strings.Contains(msg, "Line 3") {
				t.Errorf("refusal %q names no line", msg)
			}
			var focused string
			eval(b, `document.activeElement && document.activeElement.id`, &focused)
			if focused != "vendor-file" {
				t.Errorf("focus on %q after the refusal, want the file field", focused)
			}
			b.Screenshot("reconciliation-refused-" + w.name)
			b.Run(chromedp.SetUploadFiles(`#vendor-file`, []string{good}, chromedp.ByQuery))
			b.Click(`[data-testid="vendor-form"] button[type="submit"]`)
			b.WaitVisible(`[data-testid="import-result"]`)
			b.CheckA11y("reconciliation result")
			if n := count(b, `[data-testid="import-line"][data-flagged="true"]`); n != 1 {
				t.Errorf("%d flagged lines, want the one 5%% over", n)
			}
		}
		b.WaitVisible(`[data-testid="import-result"]`)
		b.Screenshot("reconciliation-" + w.name)
		if w.width < 400 {
			for _, p := range []string{"/admin/revenue", "/admin/reconciliation"} {
				b.Open(p)
				var sizes []int
				eval(b, `[document.documentElement.scrollWidth, window.innerWidth]`, &sizes)
				if len(sizes) != 2 || sizes[0] > sizes[1] {
					t.Errorf("%s scrolls sideways at 390 px: %v", p, sizes)
				}
			}
		}
	}
}
