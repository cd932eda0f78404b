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
	var carders []string
	for _, r := range rep.Results {
		if !r.Flagged {
			t.Fatalf("attack %s not flagged", r.Name)
		}
		kinds[r.Kind] = r.Accounts[0]
		if r.Name == "card testing from one network" {
			carders = r.Accounts
		}
	}
	// A card-testing flag of a network: its evidence names the network, and its page lists the
	// other accounts that opened checkouts from it.
	for _, w := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		f := a.flagOf(carders[0], abuse.KindCardTesting)
		b := browsertest.New(t, a.URL, w.width, w.height)
		signIn(b, a.boss, "admin-password")
		b.Open(fmt.Sprintf("/admin/abuse/%d", int64(f["id"].(float64))))
		if ev := b.Text(`[data-testid="flag-evidence"]`); !strings.Contains(ev, "192.0.2.0/24") {
			t.Fatalf("evidence %q", ev)
		}
		if rel := b.Text(`[data-testid="flag-related"]`); !strings.Contains(rel, "checkout network 192.0.2.0/24") {
			t.Fatalf("related accounts %q", rel)
		}
		b.Screenshot("admin-abuse-card-network-" + w.name)
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
