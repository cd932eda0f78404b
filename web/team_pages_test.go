package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"creditline/billing"
	"creditline/web/webtest"
)

var invitationLinkRE = regexp.MustCompile(`/invitations/[A-Za-z0-9_-]+`)

// invitationLink is the path of the newest invitation mailed to email (from the outbox).
func invitationLink(t *testing.T, env *webtest.Env, email string) string {
	t.Helper()
	mail, err := env.Svc.Outbox(context.Background(), 500)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mail {
		if m.To == email && m.Kind == billing.MailInvitation {
			if l := invitationLinkRE.FindString(m.Body); l != "" {
				return l
			}
		}
	}
	t.Fatalf("no invitation mailed to %s", email)
	return ""
}

// createTeam creates a team through the form as c's user and returns it (on the Pro plan, so
// it has seats to invite into, unless plan is given).
func createTeam(t *testing.T, env *webtest.Env, c *webtest.Client, userID, name, plan string) billing.Account {
	t.Helper()
	ctx := context.Background()
	p := c.Submit("/teams/new", "/teams", url.Values{"name": {name}})
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/team") {
		t.Fatalf("create team %q: %d %s\n%.500s", name, p.Status, p.Header.Get("Location"), p.Body)
	}
	ms, err := env.Svc.Memberships(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.AccountName == name {
			if plan != "" {
				if err := env.Svc.SetPlan(ctx, m.AccountID, plan); err != nil {
					t.Fatal(err)
				}
			}
			return freshAccount(t, env, m.AccountID)
		}
	}
	t.Fatalf("team %q not among the memberships of %s", name, userID)
	return billing.Account{}
}

// joinTeam invites email into the team as role (through the owner's page) and has the invited
// person sign up from the link; it returns their signed-in client.
func joinTeam(t *testing.T, env *webtest.Env, owner *webtest.Client, email, role string) *webtest.Client {
	t.Helper()
	if p := owner.Submit("/team", "/team/invitations", url.Values{"email": {email}, "role": {role}}); p.Status != http.StatusSeeOther {
		t.Fatalf("invite %s: %d\n%.800s", email, p.Status, p.Body)
	}
	link := invitationLink(t, env, email)
	c := env.Client(t)
	p := c.Submit(link, link+"/signup", url.Values{"name": {"Joiner " + role}, "password": {"long-enough-pw"}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/team?done=accepted" {
		t.Fatalf("sign up from the invitation: %d %q\n%.800s", p.Status, p.Header.Get("Location"), p.Body)
	}
	return c
}

// TestTeamSwitcherScopesEveryPage: creating a team switches to it; every page then shows the
// team's data, never the personal account's; switching back (POST) shows the personal one;
// ?account= still names an account for one page; another user's account is a 404; a current
// account the user has left falls back to their first.
func TestTeamSwitcherScopesEveryPage(t *testing.T) {
	env := webtest.Start(t)
	c, u, personal := limitsCustomer(t, env, "switch-owner@example.com")
	addNotifications(t, env, personal.ID, 2)
	team := createTeam(t, env, c, u.ID, "Switch Team", "pro")

	p := c.Get("/")
	if got := strings.TrimSpace(p.Doc.Find(`[data-testid="current-account"]`).Text()); got != "Switch Team" {
		t.Fatalf("after creating the team the current account is %q", got)
	}
	if bal := strings.TrimSpace(p.Doc.Find(`[data-testid="balance"]`).Text()); bal != "0" {
		t.Fatalf("the team's overview shows a balance of %q (the personal account's trial leaks in?)", bal)
	}
	if n := c.Get("/notifications"); n.Doc.Find(`[data-testid="notification"]`).Length() != 0 {
		t.Fatal("the team's notification centre lists the personal account's notifications")
	}
	if p.Doc.Find(`[data-testid="switch-account"]`).Length() != 2 || p.Doc.Find(`[data-testid="switch-account"][aria-current="true"]`).AttrOr("data-account", "") != team.ID {
		t.Fatal("the switcher does not list both accounts with the team current")
	}
	// ?account= names the personal account for one page without switching.
	if bal := strings.TrimSpace(c.Get("/?account=" + personal.ID).Doc.Find(`[data-testid="balance"]`).Text()); bal != "50" {
		t.Fatalf("?account= of the personal account shows %q", bal)
	}
	if got := strings.TrimSpace(c.Get("/").Doc.Find(`[data-testid="current-account"]`).Text()); got != "Switch Team" {
		t.Fatalf("?account= switched the current account to %q", got)
	}
	// Switch back.
	if p := c.Submit("/", "/accounts/switch", url.Values{"account": {personal.ID}}); p.Status != http.StatusSeeOther {
		t.Fatalf("switch: %d", p.Status)
	}
	p = c.Get("/notifications")
	if p.Doc.Find(`[data-testid="notification"]`).Length() != 2 || strings.TrimSpace(p.Doc.Find(`[data-testid="current-account"]`).Text()) == "Switch Team" {
		t.Fatal("after switching back the personal account's notifications are not shown")
	}
	// Someone else's account: 404, and the current account stays.
	_, _, other := limitsCustomer(t, env, "switch-other@example.com")
	if p := c.Submit("/", "/accounts/switch", url.Values{"account": {other.ID}}); p.Status != http.StatusNotFound {
		t.Fatalf("switch to another user's account: %d", p.Status)
	}
	if p := c.Get("/?account=" + other.ID); p.Status != http.StatusNotFound {
		t.Fatalf("?account= of another user's account: %d", p.Status)
	}
	// Leaving the current account falls back to the first one.
	if p := c.Submit("/", "/accounts/switch", url.Values{"account": {team.ID}}); p.Status != http.StatusSeeOther {
		t.Fatalf("switch to the team: %d", p.Status)
	}
	mate := joinTeam(t, env, c, "switch-mate@example.com", billing.RoleMember)
	if got := strings.TrimSpace(mate.Get("/").Doc.Find(`[data-testid="current-account"]`).Text()); got != "Switch Team" {
		t.Fatalf("the invited member's current account is %q after accepting", got)
	}
	if p := mate.Submit("/team", "/team/leave", url.Values{"confirm": {"yes"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("leave: %d\n%.500s", p.Status, p.Body)
	}
	p = mate.Get("/")
	if p.Status != http.StatusOK || strings.TrimSpace(p.Doc.Find(`[data-testid="current-account"]`).Text()) == "Switch Team" {
		t.Fatalf("after leaving, the former member still sees the team (%d)", p.Status)
	}
}

// TestCreateTeamFieldErrors: a bad name answers beside the field (422, the htmx fragment or the
// page), NUL is a 400, and nothing is created.
func TestCreateTeamFieldErrors(t *testing.T) {
	env := webtest.Start(t)
	c, u, _ := limitsCustomer(t, env, "team-errors@example.com")
	for name, want := range map[string]string{"": "error-name", strings.Repeat("x", 101): "error-name"} {
		p := c.Submit("/teams/new", "/teams", url.Values{"name": {name}})
		if p.Status != http.StatusUnprocessableEntity || p.Doc.Find(`[data-testid="`+want+`"]`).Length() != 1 {
			t.Errorf("name of %d characters: %d", len(name), p.Status)
		}
		if p.Doc.Find(`#f-name[aria-invalid="true"][autofocus]`).Length() != 1 {
			t.Errorf("name of %d characters: the field in error is not marked and focused", len(name))
		}
	}
	if p := c.Submit("/teams/new", "/teams", url.Values{"name": {"a\x00b"}}); p.Status != http.StatusBadRequest {
		t.Errorf("NUL in the name: %d", p.Status)
	}
	ms, err := env.Svc.Memberships(context.Background(), u.ID)
	if err != nil || len(ms) != 1 {
		t.Fatalf("refused names created accounts: %d %v", len(ms), err)
	}
}

// TestTeamInvitationsAndAccept: invite form errors beside the fields, the seat cap message,
// the accept page for an anonymous visitor (sign-up errors beside the fields), for another
// signed-in user, reuse, revoke and resend (old link dead), all with 404 for a dead link.
func TestTeamInvitationsAndAccept(t *testing.T) {
	env := webtest.Start(t)
	owner, ou, _ := limitsCustomer(t, env, "inv-owner@example.com")
	team := createTeam(t, env, owner, ou.ID, "Invite Team", "pro")

	for _, tc := range []struct {
		v     url.Values
		field string
	}{
		{url.Values{"email": {"not-an-email"}, "role": {"member"}}, "email"},
		{url.Values{"email": {"ok@example.com"}, "role": {"emperor"}}, "role"},
		{url.Values{"email": {"ok@example.com"}, "role": {"member"}, "monthly_limit": {"lots"}}, "monthly_limit"},
		{url.Values{"email": {"ok@example.com"}, "role": {"member"}, "monthly_limit": {"-5"}}, "monthly_limit"},
		{url.Values{"email": {"inv-owner@example.com"}, "role": {"member"}}, "email"},
	} {
		p := owner.Submit("/team", "/team/invitations", tc.v)
		if p.Status != http.StatusUnprocessableEntity || p.Doc.Find(`[data-testid="invite-form"] [data-testid="error-`+tc.field+`"]`).Length() != 1 {
			t.Errorf("invite %v: %d, want the error beside %s\n%.300s", tc.v, p.Status, tc.field, p.Doc.Find(`[data-testid="invite-form"]`).Text())
		}
	}

	if p := owner.Submit("/team", "/team/invitations", url.Values{"email": {"Inv-Anna@Example.com"}, "role": {"admin"}, "monthly_limit": {"25"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("invite: %d\n%.500s", p.Status, p.Body)
	}
	p := owner.Get("/team")
	if p.Doc.Find(`[data-testid="invitation-email"]:contains("inv-anna@example.com")`).Length() != 1 {
		t.Fatal("the pending invitation is not listed")
	}
	link := invitationLink(t, env, "inv-anna@example.com")

	anon := env.Client(t)
	p = anon.Get(link)
	if p.Status != http.StatusOK || strings.TrimSpace(p.Doc.Find(`[data-testid="invitation-team"]`).Text()) != "Invite Team" ||
		strings.TrimSpace(p.Doc.Find(`[data-testid="invitation-role"]`).Text()) != "Admin" ||
		!strings.Contains(p.Doc.Find(`[data-testid="invitation-inviter"]`).Text(), "inv-owner@example.com") {
		t.Fatalf("accept page: %d %q", p.Status, p.Doc.Find(`[data-testid="invitation"]`).Text())
	}
	if p.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Error("the accept page may leak its token in a Referer")
	}
	if href := p.Doc.Find(`[data-testid="invitation-login"]`).AttrOr("href", ""); href != "/login?next="+url.QueryEscape(link) {
		t.Errorf("sign-in link %q", href)
	}
	p = anon.Submit(link, link+"/signup", url.Values{"name": {""}, "password": {"short"}})
	if p.Status != http.StatusUnprocessableEntity || p.Doc.Find(`[data-testid="error-name"]`).Length() != 1 || p.Doc.Find(`[data-testid="error-password"]`).Length() != 1 {
		t.Fatalf("bad sign-up: %d", p.Status)
	}
	// Someone else signed in sees whom the link is for and a sign-out.
	other, _, _ := limitsCustomer(t, env, "inv-other@example.com")
	p = other.Get(link)
	if p.Doc.Find(`[data-testid="invitation-other-user"]`).Length() != 1 || p.Doc.Find(`[data-testid="accept-form"]`).Length() != 0 {
		t.Fatal("a different signed-in user is offered to accept")
	}
	if p := other.Submit(link, link+"/accept", url.Values{}); p.Status != http.StatusForbidden {
		t.Errorf("accept as a different user: %d", p.Status)
	}
	p = anon.Submit(link, link+"/signup", url.Values{"name": {"Anna"}, "password": {"long-enough-pw"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("sign-up from the invitation: %d\n%.500s", p.Status, p.Body)
	}
	tp := anon.Get("/team")
	if strings.TrimSpace(tp.Doc.Find(`[data-testid="current-account"]`).Text()) != "Invite Team" || strings.TrimSpace(tp.Doc.Find(`[data-testid="current-role"]`).Text()) != "Admin" {
		t.Fatal("the new admin is not in the team after accepting")
	}
	// Reuse: a clear 404 page.
	if p := env.Client(t).Get(link); p.Status != http.StatusNotFound || p.Doc.Find(`[data-testid="invitation-gone"]`).Length() != 1 {
		t.Fatalf("used link: %d", p.Status)
	}

	// Revoke and resend.
	if p := owner.Submit("/team", "/team/invitations", url.Values{"email": {"inv-bob@example.com"}, "role": {"member"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("invite bob: %d", p.Status)
	}
	first := invitationLink(t, env, "inv-bob@example.com")
	invID := owner.Get("/team").Doc.Find(`[data-testid="invitation"]:contains("inv-bob@example.com")`).AttrOr("data-invitation", "")
	if p := owner.Submit("/team", "/team/invitations/"+invID+"/resend", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("resend: %d", p.Status)
	}
	second := invitationLink(t, env, "inv-bob@example.com")
	if second == first || env.Client(t).Get(first).Status != http.StatusNotFound || env.Client(t).Get(second).Status != http.StatusOK {
		t.Fatal("resending does not replace the link")
	}
	if p := owner.Submit("/team", "/team/invitations/"+invID+"/revoke", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", p.Status)
	}
	if env.Client(t).Get(second).Status != http.StatusNotFound {
		t.Fatal("a revoked invitation's link still works")
	}

	// Seat cap: Free has one seat, taken by the owner.
	small := createTeam(t, env, owner, ou.ID, "Small Team", "")
	p = owner.Submit("/team?account="+small.ID, "/team/invitations", url.Values{"account": {small.ID}, "email": {"inv-cap@example.com"}, "role": {"member"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Doc.Find(`[data-testid="error-email"]`).Text(), "1") {
		t.Fatalf("invite past the seat cap: %d %q", p.Status, p.Doc.Find(`[data-testid="error-email"]`).Text())
	}
	if owner.Get("/team?account="+small.ID).Doc.Find(`[data-testid="seat-cap"]`).Length() != 1 {
		t.Error("a full team's invite form does not say the seats are taken")
	}
	_ = team
}

// TestTeamRoleGating: a member gets 404 on every page and form of billing, keys, alerts,
// webhooks, limit changes and team management, and the navigation does not offer them; the
// member's team page shows the balance and their own row only. An admin may manage keys but
// is offered no owner's controls.
func TestTeamRoleGating(t *testing.T) {
	env := webtest.Start(t)
	owner, ou, _ := limitsCustomer(t, env, "gate-owner@example.com")
	team := createTeam(t, env, owner, ou.ID, "Gate Team", "pro")
	mem := joinTeam(t, env, owner, "gate-member@example.com", billing.RoleMember)
	adm := joinTeam(t, env, owner, "gate-admin@example.com", billing.RoleAdmin)

	ownerID := owner.Get("/team").Doc.Find(`[data-testid="member"]:contains("gate-owner@example.com")`).AttrOr("data-member", "")
	for _, path := range []string{"/billing", "/api-keys", "/limits/alerts", "/limits/webhooks"} {
		if p := mem.Get(path); p.Status != http.StatusNotFound {
			t.Errorf("member GET %s: %d, want 404", path, p.Status)
		}
	}
	for _, path := range []string{"/limits/spend-limit", "/limits/pause", "/api-keys", "/limits/alerts", "/limits/webhooks",
		"/billing/checkout", "/billing/auto-recharge", "/team/invitations", "/team/delete", "/team/members/" + ownerID, "/team/members/" + ownerID + "/remove"} {
		if p := mem.Submit("/team", path, url.Values{"spend_limit": {"10"}, "paused": {"yes"}, "confirm": {"yes"}, "email": {"x@example.com"}, "role": {"member"}}); p.Status != http.StatusNotFound {
			t.Errorf("member POST %s: %d, want 404", path, p.Status)
		}
	}
	p := mem.Get("/team")
	if p.Status != http.StatusOK {
		t.Fatalf("member's team page: %d", p.Status)
	}
	if n := p.Doc.Find(`[data-testid="member"]`).Length(); n != 1 || !strings.Contains(p.Doc.Find(`[data-testid="member"]`).Text(), "gate-member@example.com") {
		t.Fatalf("member sees %d rows", n)
	}
	if p.Doc.Find(`[data-testid="invite-form"], [data-testid="invitations"], [data-testid="member-form"], [data-testid="delete-team"]`).Length() != 0 {
		t.Fatal("member is offered team management")
	}
	if p.Doc.Find(`[data-testid="team-balance"]`).Length() != 1 {
		t.Fatal("member does not see the balance")
	}
	for _, href := range []string{"/billing", "/api-keys"} {
		if p.Doc.Find(`nav a[href="`+href+`"]`).Length() != 0 {
			t.Errorf("member's navigation links %s", href)
		}
	}
	if p.Doc.Find(`nav a[href="/team"]`).Length() != 1 {
		t.Error("the navigation lacks the team page")
	}
	if op := mem.Get("/"); op.Doc.Find(`main a[href^="/billing"], main form[action^="/billing"], main a[href^="/api-keys"]`).Length() != 0 {
		t.Error("the member's overview links pages they may not use")
	}
	if lp := mem.Get("/limits"); lp.Status != http.StatusOK || lp.Doc.Find(`[data-testid="limits-tabs"] a[href="/limits/alerts"], [data-testid="limits-tabs"] a[href="/limits/webhooks"]`).Length() != 0 {
		t.Errorf("member's limits page: %d, or it links the alerts and webhooks pages", lp.Status)
	}

	if p := adm.Get("/api-keys"); p.Status != http.StatusOK {
		t.Errorf("admin's keys page: %d", p.Status)
	}
	ap := adm.Get("/team")
	if ap.Doc.Find(`[data-testid="member"]`).Length() != 3 || ap.Doc.Find(`[data-testid="invite-form"]`).Length() != 1 {
		t.Fatal("admin does not manage the team")
	}
	ownerRow := ap.Doc.Find(`[data-testid="member"]:contains("gate-owner@example.com")`)
	if ownerRow.Find(`[data-testid="member-form"]`).Length() != 0 || ap.Doc.Find(`option[value="owner"]`).Length() != 0 {
		t.Fatal("an admin is offered to change an owner or make one")
	}
	for _, path := range []string{"/team/members/" + ownerID, "/team/members/" + ownerID + "/remove"} {
		for _, confirm := range []string{"", "yes"} {
			if p := adm.Submit("/team", path, url.Values{"role": {"member"}, "confirm": {confirm}}); p.Status != http.StatusNotFound {
				t.Errorf("admin POST %s (confirm=%q) on the owner: %d, want 404", path, confirm, p.Status)
			}
		}
	}
	if op := owner.Get("/team"); op.Doc.Find(`[data-testid="member-form"] option[value="owner"]`).Length() != 2 {
		t.Error("the owner is not offered to make the other members owners")
	}
	if p := adm.Submit("/team", "/team/delete", url.Values{"confirm": {"yes"}}); p.Status != http.StatusNotFound {
		t.Errorf("admin deletes the team: %d", p.Status)
	}
	if p := owner.Get("/team?account=" + team.ID); p.Status != http.StatusOK {
		t.Fatalf("the team was deleted by a refused request: %d", p.Status)
	}
}

// TestTeamMemberChanges: the owner changes a member's role and limit (errors beside the field),
// removes them after a confirmation, and the member loses the account.
func TestTeamMemberChanges(t *testing.T) {
	env := webtest.Start(t)
	owner, ou, _ := limitsCustomer(t, env, "chg-owner@example.com")
	createTeam(t, env, owner, ou.ID, "Change Team", "pro")
	mem := joinTeam(t, env, owner, "chg-member@example.com", billing.RoleMember)
	row := owner.Get("/team").Doc.Find(`[data-testid="member"]:contains("chg-member@example.com")`)
	id := row.AttrOr("data-member", "")
	if !strings.HasPrefix(id, "mem_") {
		t.Fatalf("member id %q", id)
	}
	p := owner.Submit("/team", "/team/members/"+id, url.Values{"role": {"member"}, "monthly_limit": {"1.2345"}})
	if p.Status != http.StatusUnprocessableEntity || p.Doc.Find(`[data-member="`+id+`"] [data-testid="error-monthly_limit"]`).Length() != 1 {
		t.Fatalf("bad limit: %d", p.Status)
	}
	if p.Doc.Find(`[data-member="`+id+`"] details[open]`).Length() != 1 {
		t.Error("the member's form in error is not open")
	}
	if p := owner.Submit("/team", "/team/members/"+id, url.Values{"role": {"admin"}, "monthly_limit": {"40"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("change: %d\n%.500s", p.Status, p.Body)
	}
	row = owner.Get("/team").Doc.Find(`[data-member="` + id + `"]`)
	if !strings.Contains(row.Text(), "Admin") || strings.TrimSpace(row.Find(`[data-testid="member-limit"]`).Text()) != "40" || row.Find(`[role="progressbar"]`).Length() != 1 {
		t.Fatalf("after the change: %q", row.Text())
	}
	p = owner.Submit("/team", "/team/members/"+id+"/remove", url.Values{})
	if p.Status != http.StatusOK || p.Doc.Find(`[data-testid="confirm"]`).Length() != 1 || !strings.Contains(p.Doc.Find(`[data-testid="confirm"]`).Text(), "Joiner member") {
		t.Fatalf("remove asks first: %d", p.Status)
	}
	if p := owner.Submit("/team", "/team/members/"+id+"/remove", url.Values{"confirm": {"yes"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("remove: %d", p.Status)
	}
	if owner.Get("/team").Doc.Find(`[data-member="`+id+`"]`).Length() != 0 {
		t.Fatal("the removed member is still listed")
	}
	if got := strings.TrimSpace(mem.Get("/").Doc.Find(`[data-testid="current-account"]`).Text()); got == "Change Team" {
		t.Fatal("the removed member still sees the team")
	}
	// The last owner cannot leave: the message is shown, nothing changes.
	p = owner.Submit("/team", "/team/leave", url.Values{"confirm": {"yes"}})
	if p.Status != http.StatusUnprocessableEntity || p.Doc.Find(`[data-testid="flash"]`).Length() != 1 {
		t.Fatalf("last owner leaves: %d", p.Status)
	}
}

// TestLogsRedactInvitationTokens: an invitation link's token is in its path; neither the access
// log nor the error handler's line holds it, also when it rides in a next= parameter.
func TestLogsRedactInvitationTokens(t *testing.T) {
	ie := startInput(t, nil, nil)
	raw(t, "GET", ie.URL+"/invitations/INVSECRET1", "", nil, nil)
	raw(t, "POST", ie.URL+"/invitations/INVSECRET2/accept", "application/x-www-form-urlencoded", strings.NewReader("a=1"), nil)
	raw(t, "GET", ie.URL+"/login?next="+url.QueryEscape("/invitations/INVSECRET3"), "", nil, nil)
	log := ie.log.String()
	for _, secret := range []string{"INVSECRET1", "INVSECRET2", "INVSECRET3"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %s:\n%s", secret, log)
		}
	}
	for _, want := range []string{`uri=/invitations/REDACTED `, `uri=/invitations/REDACTED/accept `} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %s:\n%s", want, log)
		}
	}
}

// chargeAs charges one flat action to the account, attributed to member ("" for none).
func chargeAs(t *testing.T, env *webtest.Env, accountID, member, key string) {
	t.Helper()
	_, err := env.Svc.ChargeUsage(context.Background(), billing.UsageInput{AccountID: accountID, Action: "chat.completion",
		Attributes: map[string]string{"model": "small-open"}, IdempotencyKey: key, Member: member})
	if err != nil {
		t.Fatalf("charge %s as %q: %v", key, member, err)
	}
}

// TestUsageMemberFilter: owners of a team account filter the usage history and its CSV by
// member; a member sees only their own events, is offered no filter, and cannot open another
// member's event; a personal account offers no filter.
func TestUsageMemberFilter(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	owner, ou, _ := limitsCustomer(t, env, "filter-owner@example.com")
	team := createTeam(t, env, owner, ou.ID, "Filter Team", "pro")
	if _, err := env.Svc.Grant(ctx, billing.GrantInput{AccountID: team.ID, Source: "promo", Amount: 100 * billing.Credit, IdempotencyKey: "filter-team-promo"}); err != nil {
		t.Fatal(err)
	}
	mem := joinTeam(t, env, owner, "filter-member@example.com", billing.RoleMember)
	chargeAs(t, env, team.ID, "email:filter-member@example.com", "filter-1")
	chargeAs(t, env, team.ID, "email:filter-member@example.com", "filter-2")
	chargeAs(t, env, team.ID, "email:filter-owner@example.com", "filter-3")

	p := owner.Get("/usage")
	opts := p.Doc.Find(`[data-testid="filter-member"] option`)
	if opts.Length() != 3 {
		t.Fatalf("member filter offers %d choices, want all + 2", opts.Length())
	}
	if n := p.Doc.Find(`[data-testid="usage-row"]`).Length(); n != 3 {
		t.Fatalf("owner's unfiltered history: %d events", n)
	}
	memberID := p.Doc.Find(`[data-testid="filter-member"] option:contains("Joiner member")`).AttrOr("value", "")
	p = owner.Get("/usage?member=" + memberID)
	if n := p.Doc.Find(`[data-testid="usage-row"]`).Length(); n != 2 {
		t.Fatalf("filtered by the member: %d events, want 2", n)
	}
	href := p.Doc.Find(`[data-testid="export-csv"]`).AttrOr("href", "")
	if !strings.Contains(href, "member="+memberID) {
		t.Fatalf("the export drops the member: %q", href)
	}
	csv := owner.Get(href)
	if lines := strings.Count(strings.TrimSpace(csv.Body), "\n"); csv.Status != http.StatusOK || lines != 2 {
		t.Fatalf("filtered CSV: %d, %d rows", csv.Status, lines)
	}
	if p := owner.Get("/usage?member=bogus"); p.Status != http.StatusUnprocessableEntity || p.Doc.Find(`[data-testid="error-member"]`).Length() != 1 {
		t.Errorf("a bad member filter: %d", p.Status)
	}

	// The member: own events only, no filter, another member's event is a 404.
	mp := mem.Get("/usage")
	if n := mp.Doc.Find(`[data-testid="usage-row"]`).Length(); n != 2 || mp.Doc.Find(`[data-testid="filter-member"]`).Length() != 0 {
		t.Fatalf("member's history: %d events, filter shown %d", n, mp.Doc.Find(`[data-testid="filter-member"]`).Length())
	}
	if c := mem.Get("/usage.csv?member=" + p.Doc.Find(`[data-testid="filter-member"] option:contains("filter-owner")`).AttrOr("value", "x")); strings.Count(strings.TrimSpace(c.Body), "\n") != 2 {
		t.Fatal("a member's CSV holds someone else's usage")
	}
	ownEvents := owner.Get("/usage?member=" + p.Doc.Find(`[data-testid="filter-member"] option:contains("Lim filter-owner")`).AttrOr("value", ""))
	evHref := "/usage/" + ownEvents.Doc.Find(`[data-testid="usage-row"]`).First().AttrOr("data-event", "")
	if evHref == "/usage/" {
		t.Fatal("no link to the owner's event")
	}
	if p := mem.Get(evHref); p.Status != http.StatusNotFound {
		t.Errorf("member opens the owner's event: %d", p.Status)
	}
	// The overview: the owner sees every recent event, the member only theirs.
	if n := owner.Get("/").Doc.Find(`[data-testid="recent-row"]`).Length(); n != 3 {
		t.Errorf("owner's overview lists %d recent events, want 3", n)
	}
	if n := mem.Get("/").Doc.Find(`[data-testid="recent-row"]`).Length(); n != 2 {
		t.Errorf("member's overview lists %d recent events, want their 2", n)
	}
	// The team page shows each member's spend this month.
	row := owner.Get("/team").Doc.Find(`[data-member="` + memberID + `"]`)
	if spent := strings.TrimSpace(row.Find(`[data-testid="member-spent"]`).Text()); spent == "0" || spent == "" {
		t.Errorf("the member's spend on the team page: %q", spent)
	}
	// A personal account has no member filter.
	if n := mem.Get("/usage?account=" + accountOf(t, env, "filter-member@example.com").ID).Doc.Find(`[data-testid="filter-member"]`).Length(); n != 0 {
		t.Error("a personal account offers a member filter")
	}
}

// TestInvitationSignInThenAccept: someone with an account follows "Sign in to accept", comes
// back to the link after signing in, accepts (POST), and the team becomes their current account.
func TestInvitationSignInThenAccept(t *testing.T) {
	env := webtest.Start(t)
	owner, ou, _ := limitsCustomer(t, env, "signin-owner@example.com")
	createTeam(t, env, owner, ou.ID, "Sign-in Team", "pro")
	joiner, _, _ := limitsCustomer(t, env, "signin-joiner@example.com")
	if p := joiner.Submit("/", "/logout", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("logout: %d", p.Status)
	}
	if p := owner.Submit("/team", "/team/invitations", url.Values{"email": {"signin-joiner@example.com"}, "role": {"member"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("invite: %d", p.Status)
	}
	link := invitationLink(t, env, "signin-joiner@example.com")
	// Signing up again with the invited (registered) email says so, with the way to sign in.
	p := joiner.Submit(link, link+"/signup", url.Values{"name": {"Again"}, "password": {"long-enough-pw"}})
	if p.Status != http.StatusUnprocessableEntity || p.Doc.Find(`[data-testid="flash"]`).Length() != 1 || p.Doc.Find(`[data-testid="invitation-login"]`).Length() != 1 {
		t.Fatalf("sign-up with a registered email: %d %q", p.Status, p.Doc.Find(`[data-testid="flash"]`).Text())
	}
	login := joiner.Get(link).Doc.Find(`[data-testid="invitation-login"]`).AttrOr("href", "")
	next, _ := url.Parse(login)
	p = joiner.Submit(login, "/login", url.Values{"email": {"signin-joiner@example.com"}, "password": {"long-enough-pw"}, "next": {next.Query().Get("next")}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != link {
		t.Fatalf("sign-in goes to %d %q, want back to the link", p.Status, p.Header.Get("Location"))
	}
	if joiner.Get(link).Doc.Find(`[data-testid="accept-form"]`).Length() != 1 {
		t.Fatal("the signed-in invitee is not offered Accept")
	}
	if p := joiner.Submit(link, link+"/accept", url.Values{}); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/team?done=accepted" {
		t.Fatalf("accept: %d %q", p.Status, p.Header.Get("Location"))
	}
	tp := joiner.Get("/team")
	if strings.TrimSpace(tp.Doc.Find(`[data-testid="current-account"]`).Text()) != "Sign-in Team" {
		t.Fatal("after accepting the team is not the current account")
	}
	tok := tp.Doc.Find(`input[name="_csrf"]`).First().AttrOr("value", "")
	if p := joiner.PostForm(link+"/accept", url.Values{"_csrf": {tok}}); p.Status != http.StatusNotFound || p.Doc.Find(`[data-testid="invitation-gone"]`).Length() != 1 {
		t.Errorf("accepting twice: %d", p.Status)
	}
}

// TestDeleteTeam: the owner is asked first, then the team is gone from everyone's switcher and
// its pages; the owner lands on their personal account.
func TestDeleteTeam(t *testing.T) {
	env := webtest.Start(t)
	owner, ou, _ := limitsCustomer(t, env, "del-owner@example.com")
	team := createTeam(t, env, owner, ou.ID, "Doomed Team", "pro")
	mem := joinTeam(t, env, owner, "del-member@example.com", billing.RoleMember)
	p := owner.Submit("/team", "/team/delete", url.Values{})
	if p.Status != http.StatusOK || !strings.Contains(p.Doc.Find(`[data-testid="confirm"]`).Text(), "Doomed Team") {
		t.Fatalf("delete asks first: %d", p.Status)
	}
	if p := owner.Get("/team?account=" + team.ID); p.Status != http.StatusOK {
		t.Fatalf("asking deleted the team: %d", p.Status)
	}
	if p := owner.Submit("/team", "/team/delete", url.Values{"confirm": {"yes"}}); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/" {
		t.Fatalf("delete: %d %q", p.Status, p.Header.Get("Location"))
	}
	for _, c := range []*webtest.Client{owner, mem} {
		p := c.Get("/")
		if p.Status != http.StatusOK || p.Doc.Find(`[data-testid="switch-account"][data-account="`+team.ID+`"]`).Length() != 0 ||
			strings.TrimSpace(p.Doc.Find(`[data-testid="current-account"]`).Text()) == "Doomed Team" {
			t.Fatalf("the deleted team is still offered (%d)", p.Status)
		}
		if p := c.Get("/team?account=" + team.ID); p.Status != http.StatusNotFound {
			t.Errorf("the deleted team's page: %d", p.Status)
		}
	}
}

// TestTeamBillingActsOnTheCurrentAccount: an owner whose current account is the team buys a
// pack for the team, not for their personal account; a member of the team gets 404s.
func TestTeamBillingActsOnTheCurrentAccount(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	owner, ou, personal := limitsCustomer(t, env, "buy-owner@example.com")
	team := createTeam(t, env, owner, ou.ID, "Buying Team", "pro")
	bp := owner.Get("/billing")
	if bp.Status != http.StatusOK || strings.TrimSpace(bp.Doc.Find(`[data-testid="current-account"]`).Text()) != "Buying Team" {
		t.Fatalf("the team's billing page: %d", bp.Status)
	}
	p := owner.Submit("/billing", "/billing/checkout", url.Values{"kind": {"pack"}, "key": {"starter"}})
	loc := p.Header.Get("Location")
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/checkout/test/") {
		t.Fatalf("checkout: %d %s\n%.500s", p.Status, loc, p.Body)
	}
	if p := owner.Submit(loc, loc, url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("pay: %d", p.Status)
	}
	tb, err := env.Svc.Balance(ctx, team.ID)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := env.Svc.Balance(ctx, personal.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tb.Available != 100*billing.Credit || pb.Available != 50*billing.Credit {
		t.Fatalf("after buying for the team: team %v, personal %v", tb.Available, pb.Available)
	}
	mem := joinTeam(t, env, owner, "buy-member@example.com", billing.RoleMember)
	if p := mem.Get("/billing"); p.Status != http.StatusNotFound {
		t.Errorf("member's billing page of the team: %d", p.Status)
	}
	if p := mem.Get(loc); p.Status != http.StatusNotFound {
		t.Errorf("member opens the team's checkout: %d", p.Status)
	}
}
