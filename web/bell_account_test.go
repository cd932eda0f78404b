package web_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"creditline/billing"
	"creditline/web/webtest"
)

// TestBellKeepsTheCurrentAccount: on a page of a team account (?account=), the bell counts
// that account's unread notifications and leads to that account's notification centre.
func TestBellKeepsTheCurrentAccount(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	_, _, team := limitsCustomer(t, env, "bell-team-owner@example.com")
	bob, bu, own := limitsCustomer(t, env, "bell-member@example.com")
	err := env.Store.InTx(ctx, func(tx billing.Tx) error {
		return tx.AddMembership(ctx, billing.Membership{AccountID: team.ID, UserID: bu.ID, Role: billing.RoleMember, CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	addNotifications(t, env, team.ID, 3)

	p := bob.Get("/limits?account=" + team.ID)
	bell := p.Doc.Find(`[data-testid="bell"]`)
	href := bell.AttrOr("href", "")
	if p.Status != http.StatusOK || href != "/notifications?account="+team.ID || bell.AttrOr("data-unread", "") != "3" {
		t.Fatalf("bell on the team's page: %d, href %q, unread %q", p.Status, href, bell.AttrOr("data-unread", ""))
	}
	n := bob.Get(href)
	if n.Status != http.StatusOK || n.Doc.Find(`[data-testid="notification"]`).Length() != 3 {
		t.Fatalf("following the bell: %d, %d notifications (want the team's 3)", n.Status, n.Doc.Find(`[data-testid="notification"]`).Length())
	}
	// On the member's own account the bell leads to its own centre.
	if href := bob.Get("/limits").Doc.Find(`[data-testid="bell"]`).AttrOr("href", ""); href != "/notifications?account="+own.ID {
		t.Fatalf("bell on the own account's page: %q", href)
	}
}
