package web_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/web/webtest"
)

var inviteLink = regexp.MustCompile(`/invitations/([A-Za-z0-9_-]+)`)

// joinByInvitation invites email through the API and signs the person up through the link.
func (a *apiEnv) joinByInvitation(acc, email, role string, extra map[string]any) (billing.User, billing.Membership) {
	a.t.Helper()
	body := map[string]any{"email": email, "role": role}
	for k, v := range extra {
		body[k] = v
	}
	r := a.api.Do("POST", "/api/v1/accounts/"+acc+"/invitations", body)
	if r.Status != 201 || r.Str("email") != email || r.Str("role") != role || r.Str("expires_at") == "" || len(r.Str("id")) < 5 || r.Str("id")[:4] != "inv_" {
		a.t.Fatalf("invite %s: %d %s", email, r.Status, r.Raw)
	}
	mail, err := a.Svc.Outbox(context.Background(), 50)
	if err != nil {
		a.t.Fatal(err)
	}
	token := ""
	for _, m := range mail {
		if g := inviteLink.FindStringSubmatch(m.Body); m.To == email && g != nil {
			token = g[1]
			break
		}
	}
	u, m, err := a.Svc.SignUpWithInvitation(context.Background(), token, billing.SignUpInput{Name: role, Password: "long-enough-pw"}, billing.Op{})
	if err != nil {
		a.t.Fatalf("join %s: %v", email, err)
	}
	return u, m
}

// TestTeamAPI: members, invitations, member changes and removal over real HTTP, attribution by
// member and by key, the member limit's 402, removal revoking the member's key (401) and their
// pages of the account (404), and the last owner staying.
func TestTeamAPI(t *testing.T) {
	a := newAPIEnv(t)
	acc := a.account("1000", "pro")
	base := "/api/v1/accounts/" + acc
	ownerU, owner := a.joinByInvitation(acc, "team-owner@example.com", billing.RoleOwner, nil)
	adminU, admin := a.joinByInvitation(acc, "team-admin@example.com", billing.RoleAdmin, nil)
	_, member := a.joinByInvitation(acc, "team-member@example.com", billing.RoleMember, map[string]any{"monthly_limit": "30"})

	r := a.api.Do("GET", base+"/members", nil)
	data, _ := r.Body["data"].([]any)
	if r.Status != 200 || len(data) != 3 {
		t.Fatalf("members: %d %s", r.Status, r.Raw)
	}
	if m := data[2].(map[string]any); m["id"] != member.ID || m["role"] != "member" || m["monthly_limit"] != "30" || m["spent_this_period"] != "0" {
		t.Fatalf("member row: %v", m)
	}

	// Attribution by member id and email; unknown members are field errors.
	u := usage(acc, "t1", 1000, 1000) // 11.25 on pro
	u["member"] = member.ID
	if r := a.api.Do("POST", "/api/v1/usage", u); r.Status != 201 {
		t.Fatalf("usage by member: %d %s", r.Status, r.Raw)
	}
	u = usage(acc, "t2", 1000, 1000)
	u["member"] = "email:TEAM-member@example.com"
	if r := a.api.Do("POST", "/api/v1/usage", u); r.Status != 201 {
		t.Fatalf("usage by email: %d %s", r.Status, r.Raw)
	}
	u = usage(acc, "t3", 1000, 1000)
	u["member"] = member.ID
	r = a.api.Do("POST", "/api/v1/usage", u)
	if r.Status != http.StatusPaymentRequired || r.Code() != billing.EMemberLimit || r.Details()["spent"] != "22.5" || r.Details()["limit"] != "30" {
		t.Fatalf("past the member's limit: %d %s", r.Status, r.Raw)
	}
	e := a.api.Do("POST", "/api/v1/estimate", map[string]any{"account": acc, "action": "chat.completion", "member": member.ID,
		"attributes": map[string]any{"model": "gpt-4o"}, "quantities": map[string]any{"input_tokens": 1000, "output_tokens": 1000}})
	if e.Status != 200 || e.Body["allowed"] != false || e.Str("reason") != billing.EMemberLimit {
		t.Fatalf("estimate past the member's limit: %d %s", e.Status, e.Raw)
	}
	for _, ref := range []string{"mem_nope", "email:nobody@example.com", "someone"} {
		u := usage(acc, "bad-"+ref, 10, 10)
		u["member"] = ref
		r := a.api.Do("POST", "/api/v1/usage", u)
		fields, _ := r.Details()["fields"].(map[string]any)
		if r.Status != 400 || r.Code() != billing.EInvalid || fields["member"] == nil {
			t.Errorf("member %q: %d %s", ref, r.Status, r.Raw)
		}
	}

	// In the portal, the member sees their own usage only; the owner sees everyone's.
	if r := a.api.Do("POST", "/api/v1/usage", usage(acc, "t0", 10, 10)); r.Status != 201 {
		t.Fatalf("unattributed usage: %d %s", r.Status, r.Raw)
	}
	mb := a.Client(t)
	mb.Login("team-member@example.com", "long-enough-pw")
	if p := mb.Get("/?account=" + acc); p.Status != 200 || p.Doc.Find(`[data-testid="recent-row"]`).Length() != 2 {
		t.Fatalf("member's overview: %d, %d recent rows", p.Status, p.Doc.Find(`[data-testid="recent-row"]`).Length())
	}
	if p := mb.Get("/usage?account=" + acc); p.Doc.Find(`[data-testid="usage-row"]`).Length() != 2 {
		t.Fatalf("member's usage page: %d rows", p.Doc.Find(`[data-testid="usage-row"]`).Length())
	}
	if p := mb.Get("/usage.csv?account=" + acc); p.Status != 200 || strings.Count(p.Body, "\n") != 3 || strings.Count(p.Body, ","+member.ID+"\n") != 2 {
		t.Fatalf("member's CSV: %d %q", p.Status, p.Body)
	}
	ob := a.Client(t)
	ob.Login("team-owner@example.com", "long-enough-pw")
	if p := ob.Get("/?account=" + acc); p.Status != 200 || p.Doc.Find(`[data-testid="recent-row"]`).Length() != 3 {
		t.Fatalf("owner's overview: %d, %d recent rows", p.Status, p.Doc.Find(`[data-testid="recent-row"]`).Length())
	}
	// The usage list filters by member.
	if r := a.api.Do("GET", base+"/usage?member="+member.ID, nil); r.Status != 200 || len(r.Body["data"].([]any)) != 2 {
		t.Fatalf("usage by member: %d %s", r.Status, r.Raw)
	}
	if r := a.api.Do("GET", base+"/usage?member=bob", nil); r.Status != 400 {
		t.Fatalf("usage by a malformed member: %d", r.Status)
	}
	// PATCH: raise the limit, then clear it with null; bad input is a 400 on the field.
	r = a.api.Do("PATCH", base+"/members/"+member.ID, map[string]any{"monthly_limit": "100"})
	if r.Status != 200 || r.Str("monthly_limit") != "100" || r.Str("spent_this_period") != "22.5" {
		t.Fatalf("raise limit: %d %s", r.Status, r.Raw)
	}
	if r := a.api.Do("PATCH", base+"/members/"+member.ID, `{"monthly_limit":null}`); r.Status != 200 || r.Body["monthly_limit"] != nil {
		t.Fatalf("clear limit: %d %s", r.Status, r.Raw)
	}
	for body, field := range map[string]string{`{"monthly_limit":5}`: "monthly_limit", `{"monthly_limit":"-1"}`: "monthly_limit", `{"role":"boss"}`: "role"} {
		r := a.api.Do("PATCH", base+"/members/"+member.ID, body)
		fields, _ := r.Details()["fields"].(map[string]any)
		if r.Status != 400 || fields[field] == nil {
			t.Errorf("PATCH %s: %d %s", body, r.Status, r.Raw)
		}
	}
	if r := a.api.Do("PATCH", base+"/members/mem_nope", map[string]any{"role": "admin"}); r.Status != 404 {
		t.Errorf("PATCH unknown member: %d", r.Status)
	}

	// The admin's own key is attributed to them; removing the admin revokes it (401) and their
	// session loses the account (404).
	acct, err := a.Svc.AccountSnapshot(context.Background(), acc)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := a.Svc.CreateMemberAPIKey(context.Background(), acct, admin, "admin key", billing.Op{Actor: billing.UserActor(adminU.ID)})
	if err != nil {
		t.Fatal(err)
	}
	adminAPI := a.api.WithKey(secret)
	r = adminAPI.Do("POST", "/api/v1/usage", usage(acc, "k1", 10, 10))
	if r.Status != 201 {
		t.Fatalf("admin key usage: %d %s", r.Status, r.Raw)
	}
	ev, err := a.Svc.UsageEvent(context.Background(), acc, r.Str("id"))
	if err != nil || ev.MemberID != admin.ID {
		t.Fatalf("admin key usage attributed to %q (%v)", ev.MemberID, err)
	}
	u = usage(acc, "k2", 10, 10)
	u["member"] = member.ID
	if r := adminAPI.Do("POST", "/api/v1/usage", u); r.Status != 400 {
		t.Fatalf("admin key naming another member: %d %s", r.Status, r.Raw)
	}
	browser := a.Client(t)
	browser.Login("team-admin@example.com", "long-enough-pw")
	if p := browser.Get("/limits?account=" + acc); p.Status != 200 {
		t.Fatalf("admin's limits page before removal: %d", p.Status)
	}
	if r := a.api.Do("DELETE", base+"/members/"+admin.ID, nil); r.Status != 204 {
		t.Fatalf("remove admin: %d %s", r.Status, r.Raw)
	}
	if r := adminAPI.Do("POST", "/api/v1/usage", usage(acc, "k3", 10, 10)); r.Status != 401 {
		t.Fatalf("removed admin's key: %d %s", r.Status, r.Raw)
	}
	if p := browser.Get("/limits?account=" + acc); p.Status != 404 {
		t.Fatalf("removed admin's limits page: %d", p.Status)
	}
	if r := a.api.Do("DELETE", base+"/members/"+owner.ID, nil); r.Status != 400 || r.Code() != billing.EInvalid {
		t.Fatalf("removing the last owner: %d %s", r.Status, r.Raw)
	}
	if r := a.api.Do("GET", base+"/members", nil); len(r.Body["data"].([]any)) != 2 {
		t.Fatalf("members after removal: %s", r.Raw)
	}
	_ = ownerU
}

// TestMemberChangesReachEveryInstance: B resolves members from its warm cache; a member limit
// set and a member removed through A are honoured by B's next request (the change notification
// drops B's cached members, and the account version sends B's debit to the locked path).
func TestMemberChangesReachEveryInstance(t *testing.T) {
	a := newAPIEnv(t)
	envB := webtest.Start(t)
	listen(t, a.Env)
	listen(t, envB)
	b := envB.PlatformKey(t)
	acc := a.account("1000", "pro")
	_, m := a.joinByInvitation(acc, "inst-member@example.com", billing.RoleMember, nil)
	n := 0
	use := func(c *webtest.APIClient) *webtest.Response {
		n++
		u := usage(acc, "im-"+itoa(n), 1000, 1000) // 11.25 on pro
		u["member"] = "email:inst-member@example.com"
		return c.Do("POST", "/api/v1/usage", u)
	}
	for i := 0; i < 2; i++ { // warm B's caches (member set, ledger cache)
		if r := use(b); r.Status != 201 {
			t.Fatalf("warm-up: %d %s", r.Status, r.Raw)
		}
	}
	if r := a.api.Do("PATCH", "/api/v1/accounts/"+acc+"/members/"+m.ID, map[string]any{"monthly_limit": "30"}); r.Status != 200 || r.Str("spent_this_period") != "22.5" {
		t.Fatalf("limit through A: %d %s", r.Status, r.Raw)
	}
	// No wait for the notification: B's stale copy fails its version check and is decided again under lock.
	if r := use(b); r.Status != http.StatusPaymentRequired || r.Code() != billing.EMemberLimit {
		t.Fatalf("B past the limit set through A: %d %s", r.Status, r.Raw)
	}
	if r := a.api.Do("DELETE", "/api/v1/accounts/"+acc+"/members/"+m.ID, nil); r.Status != 204 {
		t.Fatalf("remove through A: %d %s", r.Status, r.Raw)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := use(b)
		if r.Status == 400 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B still attributes to a removed member: %d %s", r.Status, r.Raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func itoa(i int) string { return fmt.Sprint(i) }

// TestDemotedAdminKeyIs401: an admin's account key manages the account (PATCH
// /accounts/{id}); demoting the admin to member over the API revokes it, so the same key is a
// 401 at once, and an admin made owner keeps theirs.
func TestDemotedAdminKeyIs401(t *testing.T) {
	a := newAPIEnv(t)
	acc := a.account("1000", "pro")
	base := "/api/v1/accounts/" + acc
	adminU, admin := a.joinByInvitation(acc, "demoted-admin@example.com", billing.RoleAdmin, nil)
	otherU, other := a.joinByInvitation(acc, "promoted-admin@example.com", billing.RoleAdmin, nil)
	acct, err := a.Svc.AccountSnapshot(context.Background(), acc)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := a.Svc.CreateMemberAPIKey(context.Background(), acct, admin, "admin key", billing.Op{Actor: billing.UserActor(adminU.ID)})
	if err != nil {
		t.Fatal(err)
	}
	_, kept, err := a.Svc.CreateMemberAPIKey(context.Background(), acct, other, "other key", billing.Op{Actor: billing.UserActor(otherU.ID)})
	if err != nil {
		t.Fatal(err)
	}
	adminAPI, otherAPI := a.api.WithKey(secret), a.api.WithKey(kept)
	if r := adminAPI.Do("GET", base, nil); r.Status != 200 {
		t.Fatalf("admin key before the demotion: %d %s", r.Status, r.Raw)
	}
	if r := a.api.Do("PATCH", base+"/members/"+admin.ID, map[string]any{"role": "member"}); r.Status != 200 || r.Str("role") != "member" {
		t.Fatalf("demote: %d %s", r.Status, r.Raw)
	}
	if r := adminAPI.Do("PATCH", base, map[string]any{"low_balance_threshold": "1"}); r.Status != 401 {
		t.Fatalf("demoted admin's key on PATCH /accounts/{id}: %d %s", r.Status, r.Raw)
	}
	if r := a.api.Do("PATCH", base+"/members/"+other.ID, map[string]any{"role": "owner"}); r.Status != 200 {
		t.Fatalf("promote: %d %s", r.Status, r.Raw)
	}
	if r := otherAPI.Do("GET", base, nil); r.Status != 200 {
		t.Fatalf("promoted admin's key: %d %s", r.Status, r.Raw)
	}
}
