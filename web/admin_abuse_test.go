package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/abuse"
	"creditline/billing/abuse/abusesim"
	"creditline/web/webtest"
)

// abuseEnv is a server whose clock the test moves (the detectors' windows follow it), with an
// admin signed in and low thresholds so a few requests raise flags.
type abuseEnv struct {
	*webtest.Env
	t     *testing.T
	clock *abusesim.Clock
	adm   *webtest.Client
	boss  string
	api   *webtest.APIClient
}

func newAbuseEnv(t *testing.T) *abuseEnv {
	clock := abusesim.NewClock(time.Now())
	env := webtest.StartFresh(t, func(o *billing.Options) { o.Now = clock.Now })
	boss := fmt.Sprintf("boss-%d@example.com", time.Now().UnixNano()%1e9)
	if _, err := env.Svc.EnsureAdmin(context.Background(), boss, "admin-password"); err != nil {
		t.Fatal(err)
	}
	adm := env.Client(t)
	if p := adm.Login(boss, "admin-password"); p.Status != http.StatusSeeOther {
		t.Fatalf("admin login %d", p.Status)
	}
	th := abuse.DefaultThresholds()
	th.RepeatedPromptEvents, th.SignupsPerNetwork = 3, 2
	if err := env.Abuse.SetThresholds(context.Background(), th, billing.Op{Actor: billing.Actor{Kind: billing.ActorSystem}, Reason: "test thresholds"}); err != nil {
		t.Fatal(err)
	}
	return &abuseEnv{Env: env, t: t, clock: clock, adm: adm, boss: boss, api: env.PlatformKey(t)}
}

// detect runs the detectors once, a minute later.
func (a *abuseEnv) detect() abuse.RunReport {
	a.t.Helper()
	a.clock.Advance(time.Minute)
	rep, err := a.Abuse.Run(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
	return rep
}

func (a *abuseEnv) flagOf(acc, kind string) map[string]any {
	a.t.Helper()
	r := a.api.Do("GET", "/api/v1/abuse-flags?status=open&kind="+kind, nil)
	if r.Status != 200 {
		a.t.Fatalf("list flags: %d %s", r.Status, r.Raw)
	}
	for _, f := range r.Body["data"].([]any) {
		if m := f.(map[string]any); m["account"] == acc {
			return m
		}
	}
	a.t.Fatalf("no open %s flag on %s: %s", kind, acc, r.Raw)
	return nil
}

// TestAdminAbuseAPI: repeated prompt hashes in metadata raise a flag the API lists with its
// evidence; resolving it with require_verification refuses the account's usage with
// verification_required; a second resolve is a conflict; both changes are audited.
func TestAdminAbuseAPI(t *testing.T) {
	a := newAbuseEnv(t)
	acc := newAPIEnvFrom(a).account("100", "")
	for i := range 4 {
		body := flat(acc, fmt.Sprintf("loop-%d", i))
		body["metadata"] = map[string]any{"prompt_hash": "9f2c"}
		if r := a.api.Do("POST", "/api/v1/usage", body); r.Status != 201 {
			t.Fatalf("usage: %d %s", r.Status, r.Raw)
		}
	}
	if rep := a.detect(); rep.Raised[abuse.KindRepeatedPrompt] != 1 {
		t.Fatalf("raised %v, want one repeated_prompt", rep.Raised)
	}
	f := a.flagOf(acc, abuse.KindRepeatedPrompt)
	if ev := f["evidence"].(map[string]any); ev["prompt_hash"] != "9f2c" || ev["events"] != float64(4) || f["severity"] != "medium" {
		t.Fatalf("flag: %v", f)
	}
	if rep := a.detect(); rep.Raised[abuse.KindRepeatedPrompt] != 0 {
		t.Fatalf("a second run raised %v: one open flag per account and kind", rep.Raised)
	}
	if r := a.api.Do("GET", "/api/v1/abuse-flags?kind=nonsense", nil); r.Status != 400 {
		t.Fatalf("unknown kind: %d %s", r.Status, r.Raw)
	}
	own := newAPIEnvFrom(a).accountKey(acc)
	if r := own.Do("GET", "/api/v1/abuse-flags", nil); r.Status != 403 {
		t.Fatalf("account key lists flags: %d", r.Status)
	}
	id := int64(f["id"].(float64))
	path := fmt.Sprintf("/api/v1/abuse-flags/%d/resolve", id)
	if r := a.api.Do("POST", path, map[string]any{"action": "ban", "note": ""}); r.Status != 400 {
		t.Fatalf("bad action: %d %s", r.Status, r.Raw)
	}
	r := a.api.Do("POST", path, map[string]any{"action": "require_verification", "note": "scripted loop"})
	if r.Status != 200 || r.Str("status") != "actioned" || r.Str("resolution") != "require_verification" {
		t.Fatalf("resolve: %d %s", r.Status, r.Raw)
	}
	if u := a.api.Do("POST", "/api/v1/usage", flat(acc, "after")); u.Status != 403 || !strings.Contains(string(u.Raw), `"verification_required"`) {
		t.Fatalf("usage after require_verification: %d %s", u.Status, u.Raw)
	}
	if r := a.api.Do("POST", path, map[string]any{"action": "dismiss", "note": "again"}); r.Status != 409 {
		t.Fatalf("second resolve: %d %s", r.Status, r.Raw)
	}
	log := a.api.Do("GET", "/api/v1/audit-log?account="+acc, nil)
	for _, want := range []string{`"abuse_flag.resolve"`, `"verification_required"`} {
		if !strings.Contains(string(log.Raw), want) {
			t.Errorf("audit log lacks %s: %s", want, log.Raw)
		}
	}
}

func newAPIEnvFrom(a *abuseEnv) *apiEnv { return &apiEnv{Env: a.Env, api: a.api, t: a.t} }

// TestAdminAbuseSignupsAndVerification: two sign-ups from one network are flagged (each with
// the trial grants counted); the queue lists them, a flag's page shows the evidence and the
// other account; require verification shows the customer a banner and refuses usage until a
// card is saved by a pack purchase.
func TestAdminAbuseSignupsAndVerification(t *testing.T) {
	a := newAbuseEnv(t)
	c1, c2 := a.Client(t), a.Client(t)
	c1.SignUp("Farm One", "farm-one@example.com", "long-enough-pw")
	c2.SignUp("Farm Two", "farm-two@example.com", "long-enough-pw")
	acc1, acc2 := accountOf(t, a.Env, "farm-one@example.com"), accountOf(t, a.Env, "farm-two@example.com")
	if rep := a.detect(); rep.Raised[abuse.KindSignupNetwork] != 2 {
		t.Fatalf("raised %v, want two signup_network flags", rep.Raised)
	}
	q := a.adm.Get("/admin/abuse?kind=signup_network")
	if q.Status != 200 || q.Doc.Find(`[data-testid="abuse-flag-row"][data-kind="signup_network"]`).Length() != 2 {
		t.Fatalf("queue: %d\n%s", q.Status, q.Body)
	}
	f := a.flagOf(acc1.ID, abuse.KindSignupNetwork)
	if ev := f["evidence"].(map[string]any); ev["network"] != "127.0.0.0/24" || ev["trial_grants"] != float64(2) {
		t.Fatalf("evidence: %v", ev)
	}
	page := fmt.Sprintf("/admin/abuse/%d", int64(f["id"].(float64)))
	p := a.adm.Get(page)
	if p.Status != 200 || !strings.Contains(text(p, `[data-testid="flag-evidence"]`), "127.0.0.0/24") ||
		!strings.Contains(text(p, `[data-testid="flag-related"]`), "Farm Two") || p.Doc.Find(`[data-testid="usage-chart"]`).Length() != 1 {
		t.Fatalf("flag page: %d\n%s", p.Status, p.Body)
	}
	// A note is required: the form comes back with the message beside it (422).
	if r := a.adm.Submit(page, page+"/resolve", url.Values{"action": {"require_verification"}, "note": {""}}); r.Status != 422 ||
		text(r, `[data-testid="error-note"]`) == "" {
		t.Fatalf("no note: %d", r.Status)
	}
	r := a.adm.Submit(page, page+"/resolve", url.Values{"action": {"require_verification"}, "note": {"one network, two trials"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("resolve: %d %s", r.Status, r.Body)
	}
	if p := a.adm.Get(page); !strings.Contains(text(p, `[data-testid="flag-resolution"]`), "require verification") {
		t.Fatalf("resolved flag page:\n%s", p.Body)
	}
	if p := a.adm.Get("/admin/customers/" + acc1.ID); p.Doc.Find(`[data-testid="admin-flag"] a[href="`+page+`"]`).Length() != 1 {
		t.Fatal("the customer page does not link its flag")
	}
	ov := c1.Get("/")
	if ov.Doc.Find(`[data-testid="verification-banner"]`).Length() != 1 {
		t.Fatalf("no verification banner:\n%s", ov.Body)
	}
	if _, err := a.Svc.ChargeUsage(context.Background(), billing.UsageInput{AccountID: acc1.ID, Action: "chat.completion",
		Attributes: map[string]string{"model": "small-open"}, IdempotencyKey: "v1"}); billing.ErrorCode(err) != billing.EVerificationRequired {
		t.Fatalf("usage while verification pending: %v", err)
	}
	// Saving a card (a pack bought in test mode) lifts it.
	co := c1.Submit("/billing", "/billing/checkout", url.Values{"kind": {"pack"}, "key": {"starter"}})
	loc := co.Header.Get("Location")
	if p := c1.Submit(loc, loc, url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("pay: %d", p.Status)
	}
	if _, err := a.Svc.ChargeUsage(context.Background(), billing.UsageInput{AccountID: acc1.ID, Action: "chat.completion",
		Attributes: map[string]string{"model": "small-open"}, IdempotencyKey: "v2"}); err != nil {
		t.Fatalf("usage after the card was saved: %v", err)
	}
	if ov := c1.Get("/"); ov.Doc.Find(`[data-testid="verification-banner"]`).Length() != 0 {
		t.Fatal("banner still shown after verification")
	}
	// Dismissed: the other account's same evidence does not raise it again.
	f2 := a.flagOf(acc2.ID, abuse.KindSignupNetwork)
	if r := a.api.Do("POST", fmt.Sprintf("/api/v1/abuse-flags/%d/resolve", int64(f2["id"].(float64))),
		map[string]any{"action": "dismiss", "note": "family"}); r.Status != 200 || r.Str("status") != "dismissed" {
		t.Fatalf("dismiss: %d %s", r.Status, r.Raw)
	}
	if rep := a.detect(); rep.Raised[abuse.KindSignupNetwork] != 0 {
		t.Fatalf("dismissed evidence raised again: %v", rep.Raised)
	}
}

// TestAdminAbuseThresholdsForm: a bad threshold re-renders the form beside the field (422);
// a good one is saved and audited.
func TestAdminAbuseThresholdsForm(t *testing.T) {
	a := newAbuseEnv(t)
	v := url.Values{"reason": {"tighter"}}
	for _, n := range abuse.ThresholdNames() {
		v.Set(n, fmt.Sprint(abuse.DefaultThresholds().Field(n)))
	}
	v.Set("velocity_multiplier", "1")
	if r := a.adm.Submit("/admin/abuse", "/admin/abuse/thresholds", v); r.Status != 422 || text(r, `[data-testid="error-velocity_multiplier"]`) == "" {
		t.Fatalf("bad threshold: %d", r.Status)
	}
	v.Set("velocity_multiplier", "20")
	v.Set("network_card_attempts", "25")
	if r := a.adm.Submit("/admin/abuse", "/admin/abuse/thresholds", v); r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	th, err := a.Abuse.Thresholds(context.Background())
	if err != nil || th.VelocityMultiplier != 20 || th.NetworkCardAttempts != 25 || th.FailedPayments != abuse.DefaultThresholds().FailedPayments {
		t.Fatalf("saved %+v %v", th, err)
	}
	if p := a.adm.Get("/admin/audit"); !strings.Contains(p.Body, "setting.update") {
		t.Fatal("threshold change not audited")
	}
}

// TestAdminAbuseVerificationByEmail: a customer asked to verify confirms their email from the
// banner: the mailed link (followed while signed in) lifts the requirement; another user's
// session cannot use it.
func TestAdminAbuseVerificationByEmail(t *testing.T) {
	a := newAbuseEnv(t)
	c1, c2 := a.Client(t), a.Client(t)
	c1.SignUp("Mail One", "mail-one@example.com", "long-enough-pw")
	c2.SignUp("Mail Two", "mail-two@example.com", "long-enough-pw")
	acc := accountOf(t, a.Env, "mail-one@example.com")
	a.detect()
	f := a.flagOf(acc.ID, abuse.KindSignupNetwork)
	if r := a.api.Do("POST", fmt.Sprintf("/api/v1/abuse-flags/%d/resolve", int64(f["id"].(float64))),
		map[string]any{"action": "require_verification", "note": "check the owner"}); r.Status != 200 {
		t.Fatalf("resolve: %d %s", r.Status, r.Raw)
	}
	if p := c1.Submit("/", "/account/verify", url.Values{}); p.Status != 200 || p.Doc.Find(`[data-testid="verify-sent"]`).Length() != 1 {
		t.Fatalf("send: %d %s", p.Status, p.Body)
	}
	mail, err := a.Svc.Outbox(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	link := ""
	for _, m := range mail {
		if m.Kind == billing.MailVerifyAccount && m.To == "mail-one@example.com" {
			link = m.Body[strings.Index(m.Body, "/account/verify?token="):]
			link = link[:strings.IndexByte(link, '\n')]
		}
	}
	if link == "" {
		t.Fatal("no verification mail")
	}
	token := strings.TrimPrefix(link, "/account/verify?token=")
	if p := c2.Submit(link, "/account/verify/confirm", url.Values{"token": {token}}); p.Status != 404 {
		t.Fatalf("another user's session used the link: %d", p.Status)
	}
	if p := c1.Submit(link, "/account/verify/confirm", url.Values{"token": {token}}); p.Status != 200 || p.Doc.Find(`[data-testid="verified"]`).Length() != 1 {
		t.Fatalf("confirm: %d %s", p.Status, p.Body)
	}
	if _, err := a.Svc.ChargeUsage(context.Background(), billing.UsageInput{AccountID: acc.ID, Action: "chat.completion",
		Attributes: map[string]string{"model": "small-open"}, IdempotencyKey: "after-email"}); err != nil {
		t.Fatalf("usage after the email was confirmed: %v", err)
	}
	if log := a.api.Do("GET", "/api/v1/audit-log?account="+acc.ID, nil); !strings.Contains(string(log.Raw), `"account.verified"`) {
		t.Fatalf("not audited: %s", log.Raw)
	}
}
