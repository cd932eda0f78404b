package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"creditline/billing"
	"creditline/web/browsertest"
	"creditline/web/webtest"
)

// TestBrowserTeamInviteAcceptSpend goes through a team's life in headless Chromium: the owner
// opens and closes the account switcher with the keyboard, creates a team (an empty name keeps
// focus on the field), invites a member (a bad address keeps focus on the email); a second
// browser with its own profile opens the mailed link, signs up and lands in the team; the
// member spends through the API (attributed by email); the owner sees the spend and the chart
// on the team page. axe-core checks every page; screenshots of /team and the accept page at
// 1280 and 390 px.
func TestBrowserTeamInviteAcceptSpend(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	_, ou, _ := limitsCustomer(t, env, "browser-owner@example.com")
	b := browsertest.New(t, env.URL, 1280, 900)
	focused := func(b *browsertest.Browser) string {
		var id string
		eval(b, `document.activeElement ? (document.activeElement.id || document.activeElement.getAttribute("data-testid") || "") : ""`, &id)
		return id
	}
	// click clicks and then moves the pointer away, so axe-core judges colours at rest, not hovered.
	click := func(b *browsertest.Browser, sel string) {
		b.Click(sel)
		b.Run(chromedp.MouseEvent(input.MouseMoved, 1, 1))
	}
	signIn(b, "browser-owner@example.com", "long-enough-pw")

	// The switcher opens with the keyboard and Escape closes it, focus back on its toggle.
	b.Run(chromedp.Focus(`[data-testid="account-switcher-toggle"]`, chromedp.ByQuery))
	b.Run(chromedp.KeyEvent(kb.Enter))
	b.WaitVisible(`[data-testid="create-team-link"]`)
	b.CheckA11y("switcher open")
	b.Screenshot("team-switcher-open-1280")
	b.Run(chromedp.KeyEvent(kb.Escape))
	var open bool
	eval(b, `document.querySelector('[data-testid="account-switcher"]').open`, &open)
	if open || focused(b) != "account-switcher-toggle" {
		t.Fatalf("after Escape the switcher is open=%v, focus on %q", open, focused(b))
	}

	// A click outside closes it too.
	b.Run(chromedp.KeyEvent(kb.Enter))
	b.WaitVisible(`[data-testid="create-team-link"]`)
	click(b, `main h1`)
	eval(b, `document.querySelector('[data-testid="account-switcher"]').open`, &open)
	if open {
		t.Fatal("a click outside leaves the switcher open")
	}

	// Create a team: an empty name first.
	b.Run(chromedp.Focus(`[data-testid="account-switcher-toggle"]`, chromedp.ByQuery))
	b.Run(chromedp.KeyEvent(kb.Enter))
	click(b, `[data-testid="create-team-link"]`)
	b.WaitVisible(`[data-testid="new-team-form"]`)
	b.CheckA11y("new team")
	click(b, `[data-testid="create-team"]`)
	b.WaitVisible(`[data-testid="error-name"]`)
	b.CheckA11y("new team, error")
	b.Screenshot("team-new-error-1280")
	if id := focused(b); id != "f-name" {
		t.Fatalf("after an empty team name the focus is on %q", id)
	}
	b.Fill(`#f-name`, "Acme Research")
	click(b, `[data-testid="create-team"]`)
	b.WaitVisible(`[data-testid="team-page"]`)
	waitJS(b, `document.readyState === "complete"`)
	b.CheckA11y("team created")
	ms, err := env.Svc.Memberships(ctx, ou.ID)
	if err != nil || len(ms) != 2 {
		t.Fatalf("memberships after creating the team: %v %v", ms, err)
	}
	team := ms[1].AccountID
	if err := env.Svc.SetPlan(ctx, team, "pro"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Svc.Grant(ctx, billing.GrantInput{AccountID: team, Source: "promo", Amount: 200 * billing.Credit, IdempotencyKey: "team-browser-promo"}); err != nil {
		t.Fatal(err)
	}

	// Invite: a bad address first.
	b.Open("/team")
	b.Fill(`#f-invite-email`, "not-an-address")
	click(b, `[data-testid="invite-submit"]`)
	b.WaitVisible(`[data-testid="invite-form"] [data-testid="error-email"]`)
	b.CheckA11y("invite, error")
	if id := focused(b); id != "f-invite-email" {
		t.Fatalf("after a bad invite the focus is on %q", id)
	}
	b.Fill(`#f-invite-email`, "browser-member@example.com")
	b.Fill(`#f-invite-limit`, "50")
	click(b, `[data-testid="invite-submit"]`)
	b.WaitVisible(`[data-testid="invitation"]`)
	b.CheckA11y("invited")
	b.Screenshot("team-owner-invited-1280")

	// A second browser (its own profile and cookies) opens the link from the mail.
	link := invitationLink(t, env, "browser-member@example.com")
	m := browsertest.New(t, env.URL, 1280, 900)
	m.Open(link)
	if team := m.Text(`[data-testid="invitation-team"]`); team != "Acme Research" {
		t.Fatalf("accept page names %q", team)
	}
	m.Screenshot("team-accept-1280")
	m.Run(chromedp.EmulateViewport(390, 844))
	m.CheckA11y("accept page, phone")
	m.Screenshot("team-accept-390")
	m.Fill(`#f-name`, "Mia Member")
	m.Fill(`#f-password`, "short")
	click(m, `[data-testid="invitation-signup-form"] button[type="submit"]`)
	m.WaitVisible(`[data-testid="error-password"]`)
	m.CheckA11y("accept page, error")
	if id := focused(m); id != "f-password" {
		t.Errorf("after a short password the focus is on %q", id)
	}
	m.Fill(`#f-password`, "long-enough-pw")
	click(m, `[data-testid="invitation-signup-form"] button[type="submit"]`)
	m.WaitVisible(`[data-testid="team-page"]`)
	m.CheckA11y("member's team page")
	m.Screenshot("team-member-view-390")
	if role := m.Text(`[data-testid="team-role"]`); role != "Member" {
		t.Fatalf("the new member's role reads %q", role)
	}

	// The member spends through the API, attributed by email.
	api := env.PlatformKey(t)
	for i, key := range []string{"team-browser-1", "team-browser-2"} {
		body := flat(team, key)
		body["member"] = "email:browser-member@example.com"
		if r := api.Do("POST", "/api/v1/usage", body); r.Status != 201 {
			t.Fatalf("usage %d: %d %s", i, r.Status, r.Raw)
		}
	}

	// The owner sees it.
	b.Open("/team")
	row := `[data-testid="member"]:has([data-testid="member-name"])`
	var spent string
	eval(b, `(() => { for (const r of document.querySelectorAll('`+row+`')) { if (r.textContent.includes("browser-member@example.com")) return r.querySelector('[data-testid="member-spent"]').textContent.trim(); } return ""; })()`, &spent)
	if spent == "" || spent == "0" {
		t.Fatalf("the owner sees the member's spend as %q", spent)
	}
	if legend := b.Text(`[data-testid="chart-legend"]`); !strings.Contains(legend, "Mia Member") {
		t.Fatalf("the chart legend %q lacks the member", legend)
	}
	b.Screenshot("team-owner-1280")

	// The owner changes the member's limit: a bad value keeps focus on that field.
	var memberID string
	eval(b, `(() => { for (const r of document.querySelectorAll('[data-testid="member"]')) { if (r.textContent.includes("browser-member@example.com")) return r.dataset.member; } return ""; })()`, &memberID)
	sel := `[data-member="` + memberID + `"]`
	click(b, sel+` [data-testid="member-edit-toggle"]`)
	b.Fill(`#f-limit-`+memberID, "lots")
	click(b, sel+` [data-testid="member-save"]`)
	b.WaitVisible(sel + ` [data-testid="error-monthly_limit"]`)
	b.CheckA11y("member limit, error")
	if id := focused(b); id != "f-limit-"+memberID {
		t.Errorf("after a bad member limit the focus is on %q", id)
	}
	b.Screenshot("team-member-error-1280")
	b.Fill(`#f-limit-`+memberID, "100")
	click(b, sel+` [data-testid="member-save"]`)
	waitJS(b, `(document.querySelector('`+sel+` [data-testid="member-limit"]') || {}).textContent === "100"`)
	b.CheckA11y("member limit saved")
	b.Run(chromedp.EmulateViewport(390, 844))
	b.CheckA11y("team page, phone")
	b.Screenshot("team-owner-390")
	// On a phone the switcher sits in the menu.
	click(b, `[data-menu-toggle="side-nav"]`)
	click(b, `[data-testid="account-switcher-toggle"]`)
	b.WaitVisible(`[data-testid="create-team-link"]`)
	b.CheckA11y("switcher on a phone")
	b.Screenshot("team-switcher-open-390")
}
