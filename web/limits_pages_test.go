package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/web/webtest"
)

// limitsCustomer signs up a customer through the forms and returns the client, the user and
// the account.
func limitsCustomer(t *testing.T, env *webtest.Env, email string) (*webtest.Client, billing.User, billing.Account) {
	t.Helper()
	c := env.Client(t)
	c.SignUp("Lim "+email, email, "long-enough-pw")
	u, err := env.Store.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return c, u, accountOf(t, env, email)
}

func freshAccount(t *testing.T, env *webtest.Env, id string) billing.Account {
	t.Helper()
	a, err := env.Store.AccountByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// updateAudit lists the account's account.update audit entries, oldest first.
func updateAudit(t *testing.T, env *webtest.Env, accountID string) []billing.AuditEntry {
	t.Helper()
	p, err := env.Svc.AuditLog(context.Background(), billing.AuditFilter{AccountID: accountID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []billing.AuditEntry
	for i := len(p.Entries) - 1; i >= 0; i-- {
		if p.Entries[i].Action == billing.AuditAccountUpdate {
			out = append(out, p.Entries[i])
		}
	}
	return out
}

func auditField(t *testing.T, raw []byte, field string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("audit snapshot %s: %v", raw, err)
	}
	return m[field]
}

// TestLimitsPageSpendLimitValidationAndAudit: bad input re-renders the form (422) with the
// message beside the field, the input kept and focus on it, and changes nothing; a valid
// limit is saved through the audited update (actor user:<id>, before and after) and shows
// against this period's spend with an accessible bar; removing it is audited too.
func TestLimitsPageSpendLimitValidationAndAudit(t *testing.T) {
	env := webtest.Start(t)
	c, u, acc := limitsCustomer(t, env, "limits-form@example.com")

	p := c.Get("/limits")
	if p.Status != http.StatusOK {
		t.Fatalf("GET /limits: %d", p.Status)
	}
	if p.Doc.Find(`#side-nav a[href="/limits"][aria-current="page"]`).Text() != "Limits & alerts" {
		t.Error("the side navigation does not mark Limits & alerts as the current page")
	}
	if tab := p.Doc.Find(`[data-testid="limits-tabs"] a[aria-current="page"]`); tab.Length() != 1 || tab.Text() != "Limits" {
		t.Errorf("tabs: current %q", tab.Text())
	}
	if got, want := p.Doc.Find(`[data-testid="limits-resets"]`).Text(), freshAccount(t, env, acc.ID).PeriodResetsAt(env.Svc.Now()).Format("January 2, 2006"); got != want {
		t.Errorf("resets %q, want %q", got, want)
	}
	if p.Doc.Find(`[role="progressbar"]`).Length() != 0 || !strings.Contains(p.Doc.Find(`[data-testid="limits-of"]`).Text(), "No monthly spend limit") {
		t.Error("no limit yet, but the page shows one")
	}

	for _, tc := range []struct {
		name, limit, mode, field, want string
	}{
		{"not a number", "lots", "hard", "spend_limit", "Enter a number"},
		{"empty", "", "hard", "spend_limit", "Enter the monthly limit"},
		{"over the bound", "1000000000001", "hard", "spend_limit", "between 0 and"},
		{"negative", "-5", "hard", "spend_limit", ""},
		{"bad mode", "500", "maybe", "spend_limit_mode", "hard (refuse) or soft"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := c.Submit("/limits", "/limits/spend-limit", url.Values{"spend_limit": {tc.limit}, "spend_limit_mode": {tc.mode}})
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", p.Status)
			}
			msg := p.Doc.Find(`[data-testid="error-` + tc.field + `"]`)
			if msg.Length() != 1 || !strings.Contains(msg.Text(), tc.want) {
				t.Fatalf("error beside %s: %q", tc.field, msg.Text())
			}
			if tc.field == "spend_limit" {
				in := p.Doc.Find(`#f-spend-limit`)
				if v, _ := in.Attr("value"); v != tc.limit {
					t.Errorf("typed value not kept: %q", v)
				}
				if _, ok := in.Attr("autofocus"); !ok || in.AttrOr("aria-describedby", "") != "f-spend-limit-error" {
					t.Error("the field in error is not focused or not described by its message")
				}
				if in.Parent().Find(`[data-testid="error-spend_limit"]`).Length() != 1 {
					t.Error("the message is not beside its field")
				}
			}
			if a := freshAccount(t, env, acc.ID); a.SpendLimit != nil {
				t.Fatalf("a refused form set the limit to %v", *a.SpendLimit)
			}
		})
	}
	if es := updateAudit(t, env, acc.ID); len(es) != 0 {
		t.Fatalf("refused forms were audited: %d entries", len(es))
	}

	p = c.Submit("/limits", "/limits/spend-limit", url.Values{"spend_limit": {"1,500"}, "spend_limit_mode": {"soft"}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/limits?done=limit" {
		t.Fatalf("save: %d %s", p.Status, p.Header.Get("Location"))
	}
	a := freshAccount(t, env, acc.ID)
	if a.SpendLimit == nil || *a.SpendLimit != 1500*billing.Credit || a.SpendLimitMode != billing.SpendSoft {
		t.Fatalf("limit after save: %v %s", a.SpendLimit, a.SpendLimitMode)
	}
	es := updateAudit(t, env, acc.ID)
	if len(es) != 1 || es[0].Actor() != billing.UserActor(u.ID) || auditField(t, es[0].Before, "spend_limit") != nil ||
		auditField(t, es[0].After, "spend_limit") != "1500" || auditField(t, es[0].After, "spend_limit_mode") != "soft" {
		t.Fatalf("save audit: %+v", es)
	}

	p = c.Get("/limits?done=limit")
	bar := p.Doc.Find(`[role="progressbar"]`)
	if bar.Length() != 1 || bar.AttrOr("aria-label", "") == "" || bar.AttrOr("aria-valuemax", "") != "100" || bar.AttrOr("aria-valuenow", "") == "" {
		t.Fatalf("progress bar: %d %s", bar.Length(), p.Body)
	}
	if bar.Find("rect").AttrOr("width", "") != bar.AttrOr("aria-valuenow", "x") {
		t.Errorf("the bar draws %q%%, its value says %q", bar.Find("rect").AttrOr("width", ""), bar.AttrOr("aria-valuenow", ""))
	}
	if of := p.Doc.Find(`[data-testid="limits-of"]`).Text(); !strings.Contains(of, "1,500") || !strings.Contains(of, "soft") {
		t.Errorf("limit text %q", of)
	}
	if p.Doc.Find(`[data-testid="flash"]`).Text() == "" || p.Doc.Find(`input[name="spend_limit_mode"][value="soft"][checked]`).Length() != 1 {
		t.Error("no success notice, or the saved mode is not checked")
	}

	if p := c.Submit("/limits", "/limits/spend-limit", url.Values{"clear": {"yes"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("clear: %d", p.Status)
	}
	if a := freshAccount(t, env, acc.ID); a.SpendLimit != nil {
		t.Fatalf("limit after clear: %v", *a.SpendLimit)
	}
	es = updateAudit(t, env, acc.ID)
	if len(es) != 2 || auditField(t, es[1].Before, "spend_limit") != "1500" || auditField(t, es[1].After, "spend_limit") != nil {
		t.Fatalf("clear audit: %+v", es)
	}
}

// TestPauseThroughThePageAndTheAPI: pausing needs a confirmation (the first post changes
// nothing); a paused account's usage is refused with account_paused and every signed-in page
// shows the banner with a link to resume; resuming restores usage. The same through PATCH with
// the account's own key. Each change is audited with its actor.
func TestPauseThroughThePageAndTheAPI(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	c, u, acc := limitsCustomer(t, env, "limits-pause@example.com")
	api := env.PlatformKey(t)
	if g := api.Do("POST", "/api/v1/accounts/"+acc.ID+"/grants", map[string]any{"credits": "100", "source": "promo", "reason": "test", "idempotency_key": "g1"}); g.Status != 201 {
		t.Fatalf("grant: %d %s", g.Status, g.Raw)
	}
	use := func(key string) *webtest.Response {
		return api.Do("POST", "/api/v1/usage", flat(acc.ID, key))
	}
	if r := use("u1"); r.Status != 201 {
		t.Fatalf("usage before pause: %d %s", r.Status, r.Raw)
	}
	banner := func(path string) bool {
		p := c.Get(path)
		b := p.Doc.Find(`[data-testid="account-status-banner"]`)
		return b.Length() == 1 && b.Find(`a[data-testid="resume-link"][href="/limits"]`).Length() == 1
	}

	p := c.Submit("/limits", "/limits/pause", url.Values{"paused": {"yes"}})
	if p.Status != http.StatusOK || p.Doc.Find(`[data-testid="confirm"] input[name="confirm"][value="yes"]`).Length() != 1 {
		t.Fatalf("pause without confirmation: %d, no confirmation step", p.Status)
	}
	if p.Doc.Find(`[data-testid="limits-tabs"] a[aria-current="page"]`).Text() != "Limits" || p.Doc.Find(`#side-nav a[aria-current="page"]`).Text() != "Limits & alerts" {
		t.Error("the confirmation step does not mark the Limits tab and navigation entry current")
	}
	if a := freshAccount(t, env, acc.ID); a.Status != billing.StatusActive {
		t.Fatalf("the confirmation step changed the status to %s", a.Status)
	}
	if p := c.Submit("/limits", "/limits/pause", url.Values{"paused": {"yes"}, "confirm": {"yes"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("confirmed pause: %d", p.Status)
	}
	if a := freshAccount(t, env, acc.ID); a.Status != billing.StatusPaused {
		t.Fatalf("status after pause: %s", a.Status)
	}
	if r := use("u2"); r.Status != 403 || r.Code() != "account_paused" {
		t.Fatalf("usage while paused: %d %s", r.Status, r.Raw)
	}
	for _, path := range []string{"/", "/usage", "/limits", "/billing"} {
		if !banner(path) {
			t.Errorf("%s: no paused banner with a resume link", path)
		}
	}
	if sw := c.Get("/limits").Doc.Find(`[data-testid="pause-switch"]`); sw.AttrOr("role", "") != "switch" || sw.AttrOr("aria-checked", "") != "true" {
		t.Errorf("switch while paused: role %q aria-checked %q", sw.AttrOr("role", ""), sw.AttrOr("aria-checked", ""))
	}
	if p := c.Submit("/limits", "/limits/pause", url.Values{"paused": {"no"}, "confirm": {"yes"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("resume: %d", p.Status)
	}
	if r := use("u3"); r.Status != 201 {
		t.Fatalf("usage after resume: %d %s", r.Status, r.Raw)
	}
	if banner("/") {
		t.Error("the banner stays after resuming")
	}
	es := updateAudit(t, env, acc.ID)
	if len(es) != 2 || es[0].Actor() != billing.UserActor(u.ID) || auditField(t, es[0].Before, "status") != "active" ||
		auditField(t, es[0].After, "status") != "paused" || auditField(t, es[1].After, "status") != "active" {
		t.Fatalf("page audit: %+v", es)
	}

	k, raw, err := env.Svc.CreateAPIKey(ctx, acc.ID, "own key", "test")
	if err != nil {
		t.Fatal(err)
	}
	own := api.WithKey(raw)
	if r := own.Do("PATCH", "/api/v1/accounts/"+acc.ID, map[string]any{"status": "paused", "reason": "weekend"}); r.Status != 200 {
		t.Fatalf("PATCH paused: %d %s", r.Status, r.Raw)
	}
	if r := use("u4"); r.Status != 403 || r.Code() != "account_paused" {
		t.Fatalf("usage after API pause: %d %s", r.Status, r.Raw)
	}
	if !banner("/limits") {
		t.Error("no banner after an API pause")
	}
	if r := own.Do("PATCH", "/api/v1/accounts/"+acc.ID, map[string]any{"status": "active", "reason": "monday"}); r.Status != 200 {
		t.Fatalf("PATCH active: %d %s", r.Status, r.Raw)
	}
	if r := use("u5"); r.Status != 201 {
		t.Fatalf("usage after API resume: %d %s", r.Status, r.Raw)
	}
	es = updateAudit(t, env, acc.ID)
	if len(es) != 4 || es[2].Actor() != billing.KeyActor(k.ID) || auditField(t, es[2].After, "status") != "paused" {
		t.Fatalf("API audit: %+v", es[2:])
	}

	// An operator's suspension is not the customer's to lift: no switch, and a forged post is refused.
	if r := api.Do("PATCH", "/api/v1/accounts/"+acc.ID, map[string]any{"status": "suspended", "reason": "chargebacks"}); r.Status != 200 {
		t.Fatalf("suspend: %d %s", r.Status, r.Raw)
	}
	sp := c.Get("/limits")
	if sp.Doc.Find(`[data-testid="pause-switch"]`).Length() != 0 || !strings.Contains(sp.Doc.Find(`[data-testid="pause-state"]`).Text(), "Suspended") {
		t.Error("a suspended account is offered the pause switch")
	}
	if p := c.Submit("/limits", "/limits/pause", url.Values{"paused": {"no"}, "confirm": {"yes"}}); p.Status != http.StatusForbidden {
		t.Errorf("resuming a suspended account: %d, want 403", p.Status)
	}
	if a := freshAccount(t, env, acc.ID); a.Status != billing.StatusSuspended {
		t.Fatalf("status %s after the refused resume", a.Status)
	}
}

// TestMemberCannotChangeLimits: a plain member sees the page read-only and gets a 404 when
// posting (billing.Authorize); nothing changes and nothing is audited.
func TestMemberCannotChangeLimits(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	_, _, acc := limitsCustomer(t, env, "limits-owner@example.com")
	bob, bu, _ := limitsCustomer(t, env, "limits-member@example.com")
	err := env.Store.InTx(ctx, func(tx billing.Tx) error {
		return tx.AddMembership(ctx, billing.Membership{AccountID: acc.ID, UserID: bu.ID, Role: billing.RoleMember, CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	q := "?account=" + acc.ID
	p := bob.Get("/limits" + q)
	if p.Status != http.StatusOK || p.Doc.Find(`[data-testid="limits-readonly"]`).Length() != 1 ||
		p.Doc.Find(`[data-testid="spend-limit-form"], [data-testid="pause-form"]`).Length() != 0 {
		t.Fatalf("member's page: %d, forms shown", p.Status)
	}
	if p := bob.Submit("/limits"+q, "/limits/spend-limit", url.Values{"account": {acc.ID}, "spend_limit": {"10"}, "spend_limit_mode": {"hard"}}); p.Status != http.StatusNotFound {
		t.Errorf("member sets a limit: %d", p.Status)
	}
	for _, v := range []url.Values{{"paused": {"yes"}}, {"paused": {"yes"}, "confirm": {"yes"}}} {
		v.Set("account", acc.ID)
		if p := bob.Submit("/limits"+q, "/limits/pause", v); p.Status != http.StatusNotFound {
			t.Errorf("member pauses (%v): %d", v, p.Status)
		}
	}
	a := freshAccount(t, env, acc.ID)
	if a.SpendLimit != nil || a.Status != billing.StatusActive || len(updateAudit(t, env, acc.ID)) != 0 {
		t.Fatalf("a member changed the account: %v %s", a.SpendLimit, a.Status)
	}
}
