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
	"creditline/web/webtest"
	"github.com/PuerkitoBio/goquery"
)

// adminEnv is a server with a signed-in platform admin and a signed-up customer.
type adminEnv struct {
	*webtest.Env
	t    *testing.T
	tok  string // makes this test's names unique in the package's shared database
	boss string
	adm  *webtest.Client
	cust *webtest.Client
	acc  billing.Account
}

func newAdminEnv(t *testing.T) *adminEnv {
	env := webtest.Start(t)
	tok := fmt.Sprintf("t%d", time.Now().UnixNano()%1e9)
	boss := "boss-" + tok + "@example.com"
	if _, err := env.Svc.EnsureAdmin(context.Background(), boss, "admin-password"); err != nil {
		t.Fatal(err)
	}
	adm := env.Client(t)
	if p := adm.Login(boss, "admin-password"); p.Status != http.StatusSeeOther {
		t.Fatalf("admin login %d", p.Status)
	}
	cust := env.Client(t)
	cust.SignUp("Alice "+tok, "alice-"+tok+"@example.com", "long-enough-pw")
	t.Cleanup(func() {
		vs, err := env.Svc.Verify(context.Background())
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		for _, v := range vs {
			t.Errorf("verify: %s", v)
		}
	})
	return &adminEnv{Env: env, t: t, tok: tok, boss: boss, adm: adm, cust: cust, acc: accountOf(t, env, "alice-"+tok+"@example.com")}
}

func (a *adminEnv) page() string { return "/admin/customers/" + a.acc.ID }

// post submits an action form of the account page, with the page's own idempotency key
// unless v carries one.
func (a *adminEnv) post(form string, v url.Values) *webtest.Page {
	a.t.Helper()
	p := a.adm.Get(a.page())
	key, ok := p.Doc.Find(`[data-testid="form-` + form + `"] input[name="idempotency_key"]`).Attr("value")
	if !ok {
		a.t.Fatalf("no %s form on the account page (%d)", form, p.Status)
	}
	if v.Get("idempotency_key") == "" {
		v.Set("idempotency_key", key)
	}
	action, _ := p.Doc.Find(`[data-testid="form-` + form + `"]`).Attr("action")
	return a.adm.Submit(a.page(), action, v)
}

func (a *adminEnv) balance() string {
	a.t.Helper()
	b, err := a.Svc.Balance(context.Background(), a.acc.ID)
	if err != nil {
		a.t.Fatal(err)
	}
	return b.Balance.String()
}

func TestAdminPagesAreForPlatformAdminsOnly(t *testing.T) {
	a := newAdminEnv(t)
	paths := []string{"/admin/customers", a.page(), "/admin/audit", "/admin/jobs", "/admin/customers?q=a"}
	for _, p := range paths {
		if got := a.cust.Get(p); got.Status != http.StatusNotFound || strings.Contains(got.Body, a.acc.ID) && p != a.page() {
			t.Errorf("customer GET %s: %d", p, got.Status)
		}
		if got := a.Client(t).Get(p); got.Status != http.StatusSeeOther || !strings.HasPrefix(got.Header.Get("Location"), "/login") {
			t.Errorf("anonymous GET %s: %d", p, got.Status)
		}
	}
	// A customer posting an action, with a valid CSRF token of their own, gets 404 and changes nothing.
	p := a.cust.Submit("/", a.page()+"/grant", url.Values{"credits": {"1000"}, "source": {"promo"}, "reason": {"x"}, "idempotency_key": {"k"}, "confirm": {"yes"}})
	if p.Status != http.StatusNotFound || a.balance() != "50" {
		t.Fatalf("customer grant: %d, balance %s", p.Status, a.balance())
	}
}

func TestAdminNavigationListsEveryConsolePage(t *testing.T) {
	a := newAdminEnv(t)
	p := a.adm.Get("/admin/customers")
	for _, href := range []string{"/admin", "/admin/customers", "/admin/pricing", "/admin/plans", "/admin/abuse", "/admin/revenue",
		"/admin/reconciliation", "/admin/audit", "/admin/api-keys", "/admin/outbox", "/admin/jobs"} {
		if p.Doc.Find(`nav a[href="`+href+`"]`).Length() != 1 {
			t.Errorf("navigation has no link to %s", href)
		}
		if q := a.adm.Get(href); q.Status != 200 {
			t.Errorf("GET %s: %d", href, q.Status)
		}
	}
	if s := a.adm.Get("/admin/pricing"); s.Doc.Find(`[data-testid="live-version"]`).Length() != 1 {
		t.Error("the pricing page does not show the live price book")
	}
}

func TestAdminCustomerSearch(t *testing.T) {
	a := newAdminEnv(t)
	ctx := context.Background()
	tok := a.tok
	api, err := a.Svc.CreateAccount(ctx, billing.CreateAccountInput{Name: "Zeta " + tok, ExternalID: "crm-" + tok + "-42", Email: "billing-" + tok + "@zeta.test"})
	if err != nil {
		t.Fatal(err)
	}
	rows := func(q string) []string {
		p := a.adm.Get("/admin/customers?q=" + url.QueryEscape(q))
		if p.Status != 200 {
			t.Fatalf("search %q: %d", q, p.Status)
		}
		var ids []string
		p.Doc.Find(`[data-testid="customer-row"]`).Each(func(_ int, s *goquery.Selection) {
			id, _ := s.Attr("data-account")
			ids = append(ids, id)
		})
		return ids
	}
	for q, want := range map[string]string{
		"alice-" + tok: a.acc.ID, "ALICE " + tok: a.acc.ID, a.acc.ID[:10]: "", "crm-" + tok: api.ID, "zeta " + tok: api.ID,
		"billing-" + tok + "@z": api.ID, a.acc.ID: a.acc.ID,
	} {
		got := rows(q)
		if want == "" { // an id prefix matches every account created in the same milliseconds
			if len(got) == 0 {
				t.Errorf("%q: no rows", q)
			}
			continue
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("%q: %v, want %s", q, got, want)
		}
	}
	// Wildcards are typed text, not patterns.
	if got := rows("%" + tok); len(got) != 0 {
		t.Errorf("%%: %v", got)
	}
	p := a.adm.Get("/admin/customers?q=nobody-here")
	if p.Doc.Find(`[data-testid="empty"]`).Length() != 1 {
		t.Error("no empty state for a search without results")
	}
	// Pagination: 50 a page, newest first, the next page continues.
	for i := 0; i < 55; i++ {
		if _, err := a.Svc.CreateAccount(ctx, billing.CreateAccountInput{Name: fmt.Sprintf("Bulk %s %02d", tok, i)}); err != nil {
			t.Fatal(err)
		}
	}
	first := a.adm.Get("/admin/customers?q=" + url.QueryEscape("bulk "+tok))
	next, ok := first.Doc.Find(`[data-testid="next-page"]`).Attr("href")
	if n := first.Doc.Find(`[data-testid="customer-row"]`).Length(); n != 50 || !ok {
		t.Fatalf("first page: %d rows, next %v", n, ok)
	}
	second := a.adm.Get(next)
	if n := second.Doc.Find(`[data-testid="customer-row"]`).Length(); n != 5 || second.Doc.Find(`[data-testid="next-page"]`).Length() != 0 {
		t.Fatalf("second page of 55 bulk accounts: %d rows", n)
	}
	last, _ := second.Doc.Find(`[data-testid="customer-row"]`).Last().Attr("data-account")
	firstID, _ := first.Doc.Find(`[data-testid="customer-row"]`).First().Attr("data-account")
	if !(firstID > last) {
		t.Fatalf("not newest first: %s then %s", firstID, last)
	}
	if all := a.adm.Get("/admin/customers"); all.Doc.Find(`[data-testid="next-page"]`).Length() != 1 {
		t.Fatal("over 50 accounts fit one page of 50")
	}
}

func TestAdminCustomerPageShowsTheAccount(t *testing.T) {
	a := newAdminEnv(t)
	p := a.adm.Get(a.page())
	if p.Status != 200 {
		t.Fatalf("status %d", p.Status)
	}
	for sel, want := range map[string]string{
		`[data-testid="admin-balance"]`: "50", `[data-testid="admin-available"]`: "50", `[data-testid="account-plan"]`: "Free plan",
		`[data-testid="admin-members"]`: "alice-" + a.tok + "@example.com", `[data-testid="admin-grants"]`: "Trial",
		`[data-testid="admin-ledger"]`: "sign-up trial",
	} {
		if got := p.Doc.Find(sel).Text(); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want %q in it", sel, got, want)
		}
	}
	// The sign-up trial is the account's only audited change so far.
	if trail := p.Doc.Find(`[data-testid="audit"]`); trail.Find(`[data-action="grant.create"]`).Length() != 1 || !strings.Contains(trail.Text(), "sign-up trial") {
		t.Errorf("audit trail: %q, want the sign-up trial grant alone", trail.Text())
	}
	if q := a.adm.Get("/admin/customers/acc_nope"); q.Status != http.StatusNotFound {
		t.Errorf("unknown account: %d", q.Status)
	}
}

func TestAdminGrantAndRevokeAreConfirmedAndHappenOnce(t *testing.T) {
	a := newAdminEnv(t)
	// Grant: the first post asks for confirmation and moves nothing.
	v := url.Values{"credits": {"25"}, "source": {"adjustment"}, "reason": {"support goodwill"}}
	p := a.post("grant", v)
	if p.Status != 200 || p.Doc.Find(`[data-testid="confirm"]`).Length() != 1 || a.balance() != "50" {
		t.Fatalf("grant before confirming: %d, balance %s", p.Status, a.balance())
	}
	// The confirmation form carries everything, the key included.
	confirm := url.Values{}
	p.Doc.Find(`[data-testid="confirm"] input`).Each(func(_ int, s *goquery.Selection) {
		n, _ := s.Attr("name")
		val, _ := s.Attr("value")
		confirm.Set(n, val)
	})
	if confirm.Get("confirm") != "yes" || confirm.Get("idempotency_key") == "" || confirm.Get("credits") != "25" {
		t.Fatalf("confirmation form: %v", confirm)
	}
	for i := 0; i < 2; i++ { // a double submit grants once
		r := a.adm.PostForm(a.page()+"/grant", confirm)
		if r.Status != http.StatusSeeOther || !strings.HasSuffix(r.Header.Get("Location"), "?done=grant") {
			t.Fatalf("confirm %d: %d %s", i, r.Status, r.Header.Get("Location"))
		}
	}
	if b := a.balance(); b != "75" {
		t.Fatalf("balance %s after granting 25 twice with one key", b)
	}
	page := a.adm.Get(a.page() + "?done=grant")
	if !strings.Contains(page.Doc.Find(`[data-testid="flash"]`).Text(), "granted") || page.Doc.Find(`[data-testid="admin-balance"]`).Text() != "75" {
		t.Fatalf("after grant: %q", page.Doc.Find(`[data-testid="flash"]`).Text())
	}

	// Revoke 5 from that grant.
	var grantID string
	page.Doc.Find(`[data-testid="admin-grant"]`).Each(func(_ int, s *goquery.Selection) {
		if id, _ := s.Attr("data-grant"); grantID == "" {
			grantID = id // newest first: the adjustment
		}
	})
	p = a.post("revoke", url.Values{"grant": {grantID}, "credits": {"5"}, "reason": {"granted too much"}})
	if p.Doc.Find(`[data-testid="confirm"]`).Length() != 1 || !strings.Contains(p.Doc.Find(`[data-testid="confirm"]`).Text(), "Revoke 5 of the 25") {
		t.Fatalf("revoke confirmation: %d %s", p.Status, p.Doc.Find(`[data-testid="confirm"]`).Text())
	}
	confirm = url.Values{}
	p.Doc.Find(`[data-testid="confirm"] input`).Each(func(_ int, s *goquery.Selection) {
		n, _ := s.Attr("name")
		val, _ := s.Attr("value")
		confirm.Set(n, val)
	})
	for i := 0; i < 2; i++ {
		if r := a.adm.PostForm(a.page()+"/revoke", confirm); r.Status != http.StatusSeeOther {
			t.Fatalf("revoke confirm %d: %d", i, r.Status)
		}
	}
	if b := a.balance(); b != "70" {
		t.Fatalf("balance %s after revoking 5 (twice, one key)", b)
	}
	page = a.adm.Get(a.page())
	if page.Doc.Find(`[data-testid="ledger-row"][data-kind="revoke"]`).Length() != 1 {
		t.Error("the ledger shows no revoke")
	}
	audit := a.adm.Get("/admin/audit?account=" + a.acc.ID)
	if audit.Doc.Find(`[data-action="grant.revoke"]`).Length() != 1 || audit.Doc.Find(`[data-action="grant.create"]`).Length() != 2 || // the trial and this grant
		!strings.Contains(audit.Body, "granted too much") || !strings.Contains(audit.Body, "support goodwill") {
		t.Fatalf("audit log:\n%s", audit.Doc.Find(`[data-testid="audit"]`).Text())
	}
	// The customer sees the new balance.
	if o := a.cust.Get("/billing"); !strings.Contains(o.Doc.Find(`[data-testid="billing-balance"]`).Text(), "70") {
		t.Errorf("customer's billing page: %q", o.Doc.Find(`[data-testid="billing-balance"]`).Text())
	}
}

func TestAdminFormErrorsKeepInputAndChangeNothing(t *testing.T) {
	a := newAdminEnv(t)
	cases := []struct {
		form, field string
		v           url.Values
	}{
		{"grant", "reason", url.Values{"credits": {"25"}, "source": {"promo"}, "reason": {" "}}},
		{"grant", "credits", url.Values{"credits": {"1.2345"}, "source": {"promo"}, "reason": {"r"}}},
		{"revoke", "credits", url.Values{"grant": {a.firstGrantID()}, "credits": {"51"}, "reason": {"r"}}},
		{"revoke", "reason", url.Values{"grant": {a.firstGrantID()}, "credits": {"1"}, "reason": {""}}},
		{"overdraft", "overdraft_limit", url.Values{"overdraft_limit": {"-1"}, "reason": {"r"}}},
		{"spend", "reason", url.Values{"spend_limit": {"100"}, "spend_limit_mode": {"hard"}}},
		{"status", "status", url.Values{"status": {"closed"}, "reason": {"r"}}},
	}
	for _, tc := range cases {
		p := a.post(tc.form, tc.v)
		form := p.Doc.Find(`[data-testid="form-` + tc.form + `"]`)
		if p.Status != http.StatusUnprocessableEntity || form.Find(`[data-testid="error-`+tc.field+`"]`).Length() != 1 {
			t.Errorf("%s without a valid %s: %d, errors %q", tc.form, tc.field, p.Status, form.Find(`[role="alert"], [data-testid^="error-"]`).Text())
			continue
		}
		if v := tc.v.Get("credits"); v != "" {
			if got, _ := form.Find(`input[name="credits"]`).Attr("value"); got != v {
				t.Errorf("%s: credits re-rendered as %q, want %q", tc.form, got, v)
			}
		}
	}
	acc, _ := a.Store.AccountByID(context.Background(), a.acc.ID)
	if a.balance() != "50" || acc.Status != "active" || acc.SpendLimit != nil || acc.OverdraftLimit != 0 {
		t.Fatalf("refused forms changed the account: %+v", acc)
	}
	if p := a.adm.Get("/admin/audit?account=" + a.acc.ID); p.Doc.Find(`[data-testid="audit-row"]`).Length() != 1 { // the sign-up trial
		t.Fatalf("refused forms wrote audit entries: %q", p.Doc.Find(`[data-testid="audit"]`).Text())
	}
}

func (a *adminEnv) firstGrantID() string {
	a.t.Helper()
	b, err := a.Svc.Balance(context.Background(), a.acc.ID)
	if err != nil || len(b.Grants) == 0 {
		a.t.Fatalf("grants: %v", err)
	}
	return b.Grants[0].ID
}

func TestAdminSettingsForms(t *testing.T) {
	a := newAdminEnv(t)
	ctx := context.Background()
	steps := []struct {
		form string
		v    url.Values
	}{
		{"plan", url.Values{"plan": {"pro"}, "reason": {"invoiced annually"}}},
		{"overdraft", url.Values{"overdraft_limit": {"100"}, "reason": {"credit line"}}},
		{"spend", url.Values{"spend_limit": {"20"}, "spend_limit_mode": {"hard"}, "reason": {"asked by the customer"}}},
		{"status", url.Values{"status": {"suspended"}, "reason": {"chargeback under review"}}},
	}
	for _, s := range steps {
		if p := a.post(s.form, s.v); p.Status != http.StatusSeeOther || !strings.HasSuffix(p.Header.Get("Location"), "?done="+s.form) {
			t.Fatalf("%s: %d %s", s.form, p.Status, p.Doc.Find(`[data-testid="flash"]`).Text())
		}
	}
	acc, _ := a.Store.AccountByID(ctx, a.acc.ID)
	if acc.PlanKey != "pro" || acc.OverdraftLimit != billing.MustCredits("100") || acc.SpendLimit == nil || *acc.SpendLimit != billing.MustCredits("20") ||
		acc.SpendLimitMode != "hard" || acc.Status != "suspended" || acc.StatusReason != "chargeback under review" {
		t.Fatalf("account: %+v", acc)
	}
	page := a.adm.Get(a.page())
	if !strings.Contains(page.Doc.Find(`[data-testid="status-reason"]`).Text(), "chargeback under review") ||
		!strings.Contains(page.Doc.Find(`[data-testid="admin-spend"]`).Text(), "of 20 (hard)") {
		t.Error("the account page does not show the new status and limit")
	}
	if n := a.adm.Get("/admin/audit?account=" + a.acc.ID).Doc.Find(`[data-action="account.update"]`).Length(); n != 4 {
		t.Fatalf("%d account.update entries, want 4", n)
	}
	// Reinstate, and clear the spend limit with an empty amount.
	a.post("status", url.Values{"status": {"active"}, "reason": {"resolved"}})
	a.post("spend", url.Values{"spend_limit": {""}, "spend_limit_mode": {"hard"}, "reason": {"lifted"}})
	acc, _ = a.Store.AccountByID(ctx, a.acc.ID)
	if acc.Status != "active" || acc.StatusReason != "" || acc.SpendLimit != nil {
		t.Fatalf("after reinstating: %+v", acc)
	}
	// The audit page filters by actor.
	u, _ := a.Store.UserByEmail(ctx, a.boss)
	if n := a.adm.Get("/admin/audit?actor=user:" + u.ID).Doc.Find(`[data-testid="audit-row"]`).Length(); n != 6 {
		t.Fatalf("%d entries by the admin, want 6", n)
	}
	if n := a.adm.Get("/admin/audit?actor=api_key&account=" + a.acc.ID).Doc.Find(`[data-testid="audit-row"]`).Length(); n != 0 {
		t.Fatalf("%d entries by API keys, want 0", n)
	}
	if p := a.adm.Get("/admin/audit?actor=robot"); p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad actor filter: %d", p.Status)
	}
}

// The demo customer is found by email and its page renders with its 30 days of history.
func TestAdminFindsTheDemoCustomer(t *testing.T) {
	env := webtest.Start(t)
	demo := seedDemo(t, env)
	adm := env.Client(t)
	if p := adm.Login("admin@creditline.test", "admin-password"); p.Status != http.StatusSeeOther {
		t.Fatalf("demo admin login: %d", p.Status)
	}
	p := adm.Get("/admin/customers?q=demo@")
	href, ok := p.Doc.Find(`[data-testid="customer-row"] a`).First().Attr("href")
	if !ok || href != "/admin/customers/"+demo.ID {
		t.Fatalf("search demo@: %s", p.Doc.Find(`[data-testid="customers"]`).Text())
	}
	page := adm.Get(href)
	if page.Status != 200 || page.Doc.Find(`[data-testid="ledger-row"]`).Length() == 0 || page.Doc.Find(`[data-testid="usage-row"]`).Length() == 0 {
		t.Fatalf("demo account page: %d", page.Status)
	}
}
