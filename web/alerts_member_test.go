package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"creditline/billing"
	"creditline/web/webtest"
)

// TestMemberCannotChangeAlerts: alerts are managed by owners and admins: a member gets a 404
// for the page and for adding, editing or deleting a rule (billing.Authorize), and nothing changes.
func TestMemberCannotChangeAlerts(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	_, _, acc := limitsCustomer(t, env, "alerts-owner@example.com")
	bob, bu, _ := limitsCustomer(t, env, "alerts-member@example.com")
	err := env.Store.InTx(ctx, func(tx billing.Tx) error {
		return tx.AddMembership(ctx, billing.Membership{AccountID: acc.ID, UserID: bu.ID, Role: billing.RoleMember, CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	before, err := env.Svc.AlertRules(ctx, acc.ID)
	if err != nil || len(before) == 0 {
		t.Fatal(before, err)
	}
	q := "?account=" + acc.ID
	if p := bob.Get("/limits/alerts" + q); p.Status != http.StatusNotFound {
		t.Fatalf("member's alerts page: %d, want 404", p.Status)
	}
	r := before[0]
	for action, v := range map[string]url.Values{
		"/limits/alerts":                     {"kind": {billing.AlertBalanceBelow}, "threshold": {"5"}, "channels": {billing.ChannelInApp}},
		"/limits/alerts/" + r.ID:             {"threshold": {billing.AlertThresholdText(r)}, "channels": {billing.ChannelWebhook}, "enabled": {"on"}},
		"/limits/alerts/" + r.ID + "/delete": {},
	} {
		v.Set("account", acc.ID)
		if p := bob.Submit("/limits"+q, action, v); p.Status != http.StatusNotFound {
			t.Errorf("member posts %s: %d, want 404", action, p.Status)
		}
	}
	after, err := env.Svc.AlertRules(ctx, acc.ID)
	if err != nil || len(after) != len(before) || !after[0].HasChannel(billing.ChannelInApp) || after[0].HasChannel(billing.ChannelWebhook) {
		t.Fatalf("a member changed the rules: %d -> %d", len(before), len(after))
	}
}
