package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/web/webtest"
	"github.com/PuerkitoBio/goquery"
)

// hxSubmit posts a form as htmx does (HX-Request), with the page's CSRF token.
func hxSubmit(t *testing.T, a *adminEnv, formPage, action string, v url.Values) *webtest.Page {
	t.Helper()
	p := a.adm.Get(formPage)
	tok, ok := p.Doc.Find(`input[name="_csrf"]`).First().Attr("value")
	if !ok {
		t.Fatalf("no CSRF token on %s (%d)", formPage, p.Status)
	}
	v.Set("_csrf", tok)
	req, _ := http.NewRequest(http.MethodPost, a.URL+action, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	resp, err := a.adm.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(b)))
	return &webtest.Page{Status: resp.StatusCode, Header: resp.Header, Body: string(b), Doc: doc}
}

// gptForm is the chat-gpt-4o rate's form with its current values and the changes in set.
func gptForm(t *testing.T, a *adminEnv, draft string, set map[string]string) url.Values {
	t.Helper()
	p := a.adm.Get(draft)
	v := url.Values{}
	p.Doc.Find(`[data-testid="rate-chat-gpt-4o"] input`).Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		val, _ := s.Attr("value")
		if typ, _ := s.Attr("type"); typ == "checkbox" {
			if _, on := s.Attr("checked"); !on {
				return
			}
			val = "on"
		}
		if name != "" && name != "_csrf" {
			v.Set(name, val)
		}
	})
	if v.Get("rates.chat-gpt-4o.action") != "chat.completion" {
		t.Fatalf("no gpt-4o rate form on %s", draft)
	}
	for k, x := range set {
		v.Set("rates.chat-gpt-4o."+k, x)
	}
	return v
}

func TestAdminPricingEditorFlow(t *testing.T) {
	a := newAdminEnv(t)
	keepCatalog(t, a.Env)
	if p := a.cust.Get("/admin/pricing"); p.Status != http.StatusNotFound {
		t.Fatalf("customer GET /admin/pricing: %d", p.Status)
	}
	p := a.adm.Get("/admin/pricing")
	if p.Status != 200 || strings.TrimSpace(p.Doc.Find(`[data-testid="live-version-number"]`).Text()) == "" {
		t.Fatalf("pricing page: %d", p.Status)
	}
	p = a.adm.Submit("/admin/pricing", "/admin/pricing/drafts", url.Values{})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("new draft: %d", p.Status)
	}
	draft := p.Header.Get("Location")
	p = a.adm.Get(draft)
	if p.Status != 200 || p.Doc.Find(`[data-testid="rate-chat-gpt-4o"]`).Length() != 1 {
		t.Fatalf("new draft: %d", p.Status)
	}
	if !strings.HasPrefix(draft, "/admin/pricing/drafts/") {
		t.Fatalf("draft url %q", draft)
	}
	save := draft + "/rates/chat-gpt-4o"

	// Field errors beside each field, the draft unchanged.
	for _, c := range []struct {
		set    map[string]string
		testid string
	}{
		{map[string]string{"components.output_tokens.price": "abc"}, `[data-testid="error-rates.chat-gpt-4o.components.output_tokens.price"]`},
		{map[string]string{"components.output_tokens.price": "-1"}, `[data-testid="error-component"]`},
		{map[string]string{"components.output_tokens.price": "", "components.output_tokens.tiers": "1000:10, 500:8, 6"}, `[data-testid="error-rates.chat-gpt-4o.components.output_tokens.tiers"]`},
		{map[string]string{"match": "colour=blue"}, `[data-testid="error-rates.chat-gpt-4o.match"]`},
	} {
		r := hxSubmit(t, a, draft, save, gptForm(t, a, draft, c.set))
		if r.Status != 422 || r.Doc.Find(c.testid).Length() != 1 || r.Doc.Find(`html`).Length() != 1 && r.Doc.Find(`nav`).Length() != 0 {
			t.Errorf("%v: status %d, %s found %d times", c.set, r.Status, c.testid, r.Doc.Find(c.testid).Length())
		}
	}
	// A 20% rise of the output price saves, and the diff shows it.
	r := hxSubmit(t, a, draft, save, gptForm(t, a, draft, map[string]string{"components.output_tokens.price": "12"}))
	if r.Status != 200 || r.Doc.Find(`[data-testid="rate-saved"]`).Length() != 1 || r.Header.Get("HX-Trigger") != "draft-changed" {
		t.Fatalf("save: %d %q", r.Status, r.Header.Get("HX-Trigger"))
	}
	rev := a.adm.GetHX(draft + "/review")
	if !strings.Contains(rev.Doc.Find(`[data-testid="changes"]`).Text(), "10 per 1k tokens → 12 per 1k tokens") ||
		cells(rev.Doc.Find(`[data-testid="impact-chat-gpt-4o"] td`)) != "chat-gpt-4o|12.5|14.5|+16.0%" {
		t.Fatalf("review: %q / %q", rev.Doc.Find(`[data-testid="changes"]`).Text(), rev.Doc.Find(`[data-testid="impact-chat-gpt-4o"]`).Text())
	}

	// Margin guard: output at 0.01 flags the rate; publishing needs the confirmation.
	hxSubmit(t, a, draft, save, gptForm(t, a, draft, map[string]string{"components.output_tokens.price": "0.01", "components.input_tokens.price": "0.01"}))
	if a.adm.Get(draft).Doc.Find(`[data-testid="rate-chat-gpt-4o"] [data-testid="margin-warning"]`).Length() != 1 {
		t.Fatal("no margin warning beside the rate")
	}
	pub := hxSubmit(t, a, draft, draft+"/publish", url.Values{"reason": {"cheap"}})
	if pub.Status != 422 || pub.Doc.Find(`[data-testid="error-confirm"]`).Length() != 1 {
		t.Fatalf("publish under target without confirmation: %d", pub.Status)
	}
	hxSubmit(t, a, draft, save, gptForm(t, a, draft, map[string]string{"components.output_tokens.price": "12", "components.input_tokens.price": "2.5"}))

	// Scheduled publish, then cancel it.
	at := time.Now().UTC().Add(48 * time.Hour).Format("2006-01-02T15:04")
	if pub = hxSubmit(t, a, draft, draft+"/publish", url.Values{"reason": {""}, "effective_at": {at}}); pub.Status != 422 ||
		pub.Doc.Find(`[data-testid="error-reason"]`).Length() != 1 {
		t.Fatalf("publish without a reason: %d", pub.Status)
	}
	pub = hxSubmit(t, a, draft, draft+"/publish", url.Values{"reason": {"gpt-4o output +20%"}, "effective_at": {at}})
	target := pub.Header.Get("HX-Redirect")
	if pub.Status != 200 || !strings.HasPrefix(target, "/admin/pricing?published=") {
		t.Fatalf("publish: %d %q %s", pub.Status, target, pub.Body)
	}
	ver := strings.TrimPrefix(target, "/admin/pricing?published=")
	row := a.adm.Get(target).Doc.Find(`[data-testid="version-` + ver + `"]`)
	if !strings.Contains(row.Text(), "scheduled") || row.Find(`form[data-testid="cancel-`+ver+`"]`).Length() != 1 {
		t.Fatalf("version %s row: %q", ver, row.Text())
	}
	bad := a.adm.Submit("/admin/pricing", "/admin/pricing/versions/"+ver+"/cancel", url.Values{"reason": {""}})
	if bad.Status != 422 || bad.Doc.Find(`[data-testid="cancel-`+ver+`"] [data-testid="error-reason"]`).Length() != 1 {
		t.Fatalf("cancel without reason: %d", bad.Status)
	}
	done := a.adm.Submit("/admin/pricing", "/admin/pricing/versions/"+ver+"/cancel", url.Values{"reason": {"not yet"}})
	if done.Status == http.StatusSeeOther {
		done = a.adm.Get(done.Header.Get("Location"))
	}
	if done.Status != 200 || !strings.Contains(done.Doc.Find(`[data-testid="version-`+ver+`"]`).Text(), "cancelled") {
		t.Fatalf("cancel: %d", done.Status)
	}
	// The target margin: field errors, then saved and audited.
	m := a.adm.Submit("/admin/pricing", "/admin/pricing/margin", url.Values{"percent": {"99"}, "credit_value_micro_usd": {"100000"}, "reason": {"x"}})
	if m.Status != 422 || m.Doc.Find(`[data-testid="error-percent"]`).Length() != 1 {
		t.Fatalf("bad margin: %d", m.Status)
	}
	if m = a.adm.Submit("/admin/pricing", "/admin/pricing/margin", url.Values{"percent": {"35"}, "credit_value_micro_usd": {"100000"}, "reason": {"new target"}}); m.Status != http.StatusSeeOther {
		t.Fatalf("margin: %d", m.Status)
	}
	got := strings.Join(a.auditActions(), ",")
	for _, want := range []string{"price_book.publish", "price_book.cancel", "setting.update"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit %s missing from %s", want, got)
		}
	}
}

// cells joins the trimmed text of each selected cell with "|".
func cells(s *goquery.Selection) string {
	var out []string
	s.Each(func(_ int, c *goquery.Selection) { out = append(out, strings.TrimSpace(c.Text())) })
	return strings.Join(out, "|")
}

// keepCatalog puts back, when the test ends, what the price book and catalog tests change in
// the database the package's tests share: the live prices (published again as a new version),
// the margin target, and every plan and pack (plans and packs a test added are retired).
func keepCatalog(t *testing.T, env *webtest.Env) {
	t.Helper()
	ctx := context.Background()
	live, err := env.Svc.Live().Current(env.Svc.Now())
	if err != nil {
		t.Fatal(err)
	}
	data := live.Data()
	target, err := env.Svc.TargetMargin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plans, err := env.Svc.AllPlans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	packs, err := env.Svc.AllPacks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		op := billing.Op{Actor: billing.UserActor("test-cleanup"), Reason: "restore what other tests expect"}
		if err := env.Svc.SetTargetMargin(ctx, op, target); err != nil {
			t.Error(err)
		}
		if cur, err := env.Svc.Live().Current(env.Svc.Now()); err != nil || cur.Version() != live.Version() {
			d, err := env.Svc.CreatePriceDraftFrom(ctx, data, "restore", "test-cleanup")
			if err == nil {
				_, err = env.Svc.PublishPriceDraft(ctx, d.ID, billing.PublishOptions{ConfirmWarnings: true}, op)
			}
			if err != nil {
				t.Errorf("restore the live prices: %v", err)
			}
		}
		nowPlans, _ := env.Svc.AllPlans(ctx)
		for _, p := range nowPlans {
			if i := slices.IndexFunc(plans, func(x billing.Plan) bool { return x.Key == p.Key }); i >= 0 {
				p = plans[i]
			} else {
				p.Active = false
			}
			if err := env.Svc.SavePlanAs(ctx, op, p); err != nil {
				t.Error(err)
			}
		}
		nowPacks, _ := env.Svc.AllPacks(ctx)
		for _, p := range nowPacks {
			if i := slices.IndexFunc(packs, func(x billing.Pack) bool { return x.Key == p.Key }); i >= 0 {
				p = packs[i]
			} else {
				p.Active = false
			}
			if err := env.Svc.SavePackAs(ctx, op, p); err != nil {
				t.Error(err)
			}
		}
	})
}
