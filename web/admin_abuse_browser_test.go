package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"creditline/billing"
	"creditline/billing/abuse"
	"creditline/billing/abuse/abusesim"
	"creditline/web/browsertest"
)

// TestBrowserAdminAbuseReview plays the synthetic attacks beside normal customers, then an
// admin reviews a flag in the browser at desktop and phone widths and suspends its account;
// the suspended account's API calls get account_suspended. Screenshots of the queue, a flag
// and the result at both widths.
func TestBrowserAdminAbuseReview(t *testing.T) {
	a := newAbuseEnv(t)
	ctx := context.Background()
	if err := a.Abuse.SetThresholds(ctx, abuse.DefaultThresholds(), billing.Op{Actor: billing.Actor{Kind: billing.ActorSystem}, Reason: "defaults"}); err != nil {
		t.Fatal(err)
	}
	rep, err := abusesim.New(a.Svc, a.Abuse, a.clock, abusesim.Config{Normal: 4, Seed: 3}).Play(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, r := range rep.Results {
		if !r.Flagged {
			t.Fatalf("attack %s not flagged", r.Name)
		}
		kinds[r.Kind] = r.Accounts[0]
	}
	for _, w := range []struct {
		name          string
		width, height int
		kind          string
	}{{"desktop", 1280, 900, abuse.KindVelocity}, {"phone", 390, 844, abuse.KindGrantDrained}} {
		t.Run(w.name, func(t *testing.T) {
			acc := kinds[w.kind]
			f := a.flagOf(acc, w.kind)
			b := browsertest.New(t, a.URL, w.width, w.height)
			signIn(b, a.boss, "admin-password")
			b.Open("/admin/abuse")
			b.WaitVisible(`[data-testid="abuse-flags"]`)
			b.Screenshot("admin-abuse-queue-" + w.name)
			b.Click(fmt.Sprintf(`[data-testid="abuse-flag-row"][data-account="%s"][data-kind="%s"] [data-testid="abuse-flag-link"]`, acc, w.kind))
			b.WaitVisible(`[data-testid="flag-evidence"]`)
			b.CheckA11y("flag page")
			if got := b.Path(); got != fmt.Sprintf("/admin/abuse/%d", int64(f["id"].(float64))) {
				t.Fatalf("at %s", got)
			}
			b.Screenshot("admin-abuse-flag-" + w.name)
			b.Click(`[data-testid="action-suspend"]`)
			b.Fill(`#f-note`, "reviewed: "+w.kind)
			b.Click(`[data-testid="submit-resolve"]`)
			b.WaitVisible(`[data-testid="flag-resolution"]`)
			b.CheckA11y("resolved flag")
			if got := b.Text(`[data-testid="flash"]`); !strings.Contains(got, "suspended") {
				t.Fatalf("flash %q", got)
			}
			b.Screenshot("admin-abuse-suspended-" + w.name)
			r := a.api.Do("POST", "/api/v1/usage", flat(acc, "after-review-"+w.name))
			if r.Status != 403 || !strings.Contains(string(r.Raw), `"account_suspended"`) || !strings.Contains(string(r.Raw), "reviewed: "+w.kind) {
				t.Fatalf("usage of the suspended account: %d %s", r.Status, r.Raw)
			}
		})
	}
}
