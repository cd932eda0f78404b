package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"creditline/billing"
	"creditline/billing/abuse"
)

// forwardedFor claims a client address the server must not believe (no trusted proxy).
type forwardedFor struct {
	ip   string
	next http.RoundTripper
}

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.ip)
	return f.next.RoundTrip(r)
}

// TestCheckoutNetworkIsTheConnections: a checkout session keeps the network of the connection,
// not of an X-Forwarded-For header (no proxy is trusted): two accounts claiming different
// addresses are one network, whose unpaid checkouts flag both as card testing, and each flag's
// page names the other account.
func TestCheckoutNetworkIsTheConnections(t *testing.T) {
	a := newAbuseEnv(t)
	th := abuse.DefaultThresholds()
	th.RepeatedPromptEvents, th.SignupsPerNetwork, th.NetworkCardAttempts = 3, 2, 2
	if err := a.Abuse.SetThresholds(context.Background(), th, billing.Op{Actor: billing.Actor{Kind: billing.ActorSystem}, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	var accs []string
	for i, ip := range []string{"203.0.113.9", "198.51.100.9"} {
		c := a.Client(t)
		email := fmt.Sprintf("card-%d@example.com", i)
		c.SignUp(fmt.Sprintf("Card %d", i), email, "long-enough-pw")
		c.HTTP.Transport = forwardedFor{ip: ip, next: http.DefaultTransport}
		if p := c.Submit("/billing", "/billing/checkout", url.Values{"kind": {"pack"}, "key": {"starter"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("checkout: %d %s", p.Status, p.Body)
		}
		accs = append(accs, accountOf(t, a.Env, email).ID)
	}
	if rep := a.detect(); rep.Raised[abuse.KindCardTesting] != 2 {
		t.Fatalf("raised %v, want two card_testing flags", rep.Raised)
	}
	for i, acc := range accs {
		f := a.flagOf(acc, abuse.KindCardTesting)
		ev := f["evidence"].(map[string]any)
		others, _ := ev["other_accounts"].([]any)
		if ev["network"] != "127.0.0.0/24" || len(others) != 1 || others[0] != accs[1-i] {
			t.Fatalf("evidence: %v", ev)
		}
		p := a.adm.Get(fmt.Sprintf("/admin/abuse/%d", int64(f["id"].(float64))))
		if rel := text(p, `[data-testid="flag-related"]`); !strings.Contains(rel, fmt.Sprintf("Card %d", 1-i)) || !strings.Contains(rel, "checkout network") {
			t.Errorf("flag page's related accounts: %q", rel)
		}
	}
}
