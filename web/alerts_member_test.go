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

// TestMemberCannotChangeAlerts: a member sees the account's alert rules but adding, editing
// or deleting one is refused (404, billing decides) and changes nothing.
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
	if p := bob.Get("/limits/alerts" + q); p.Status != http.StatusOK {
		t.Fatalf("member's alerts page: %d", p.Status)
	}
	r := before[0]
	for action, v := range map[string]url.Values{
		"/limits/alerts":                     {"kind": {billing.AlertBalanceBelow}, "threshold": {"5"}, "channels": {billing.ChannelInApp}},
		"/limits/alerts/" + r.ID:             {"threshold": {billing.AlertThresholdText(r)}, "channels": {billing.ChannelWebhook}, "enabled": {"on"}},
		"/limits/alerts/" + r.ID + "/delete": {},
	} {
		v.Set("account", acc.ID)
		if p := bob.Submit("/limits/alerts"+q, action, v); p.Status != http.StatusNotFound {
			t.Errorf("member posts %s: %d, want 404", action, p.Status)
		}
	}
	after, err := env.Svc.AlertRules(ctx, acc.ID)
	if err != nil || len(after) != len(before) || !after[0].HasChannel(billing.ChannelInApp) || after[0].HasChannel(billing.ChannelWebhook) {
		t.Fatalf("a member changed the rules: %d -> %d", len(before), len(after))
	}
}
