package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/handlers"
	"creditline/web/webtest"
	"github.com/PuerkitoBio/goquery"
)

// seedDemo seeds the demo (users, 30 days of usage) and returns the demo customer's account.
func seedDemo(t *testing.T, env *webtest.Env) billing.Account {
	t.Helper()
	ctx := context.Background()
	if _, err := env.Svc.SeedDemo(ctx); err != nil {
		t.Fatalf("seed demo: %v", err)
	}
	return accountOf(t, env, "demo@creditline.test")
}

func accountOf(t *testing.T, env *webtest.Env, email string) billing.Account {
	t.Helper()
	ctx := context.Background()
	u, err := env.Store.UserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	acc, _, err := env.Svc.AccountForUser(ctx, u.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

func TestDemoSeedGivesThirtyDaysOfUsageAndKeepsTheLedgerClean(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	acc := seedDemo(t, env)
	if _, err := env.Svc.SeedDemo(ctx); err != nil { // safe to run twice
		t.Fatalf("second seed: %v", err)
	}
	if acc.PlanKey != "pro" {
		t.Fatalf("demo customer on %q, want pro", acc.PlanKey)
	}
	if vs, err := env.Svc.Verify(ctx); err != nil || len(vs) != 0 {
		t.Fatalf("verify: %v %v", err, vs)
	}
	evs, err := env.Svc.UsagePage(ctx, billing.UsageFilter{AccountID: acc.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	actions, models := map[string]int{}, map[string]int{}
	now := env.Svc.Now()
	for _, e := range evs {
		actions[e.Action]++
		models[e.Model]++
		if e.OccurredAt.After(now) || e.OccurredAt.Before(now.AddDate(0, 0, -30)) {
			t.Fatalf("event %s at %s, outside the last 30 days", e.ID, e.OccurredAt)
		}
	}
	for _, a := range []string{"chat.completion", "image.generate", "embedding.create", "audio.transcribe", "video.generate"} {
		if actions[a] == 0 {
			t.Errorf("no %s in the demo usage (%v)", a, actions)
		}
	}
	if models["gpt-4o"] == 0 || models["small-open"] == 0 {
		t.Errorf("models %v", models)
	}
	if len(evs) < 300 || len(evs) >= 1000 {
		t.Errorf("%d demo events", len(evs))
	}
	days := map[string]bool{}
	for _, e := range evs {
		days[e.OccurredAt.UTC().Format("2006-01-02")] = true
	}
	if len(days) < 29 {
		t.Errorf("usage on %d days, want about 30", len(days))
	}
	o, err := env.Svc.Overview(ctx, acc)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("demo: %d events, available %s, most used %+v, run-out %+v, expiring %s, low %+v",
		len(evs), o.Balance.Available, o.MostUsed, o.RunOut, o.ExpiringSoon, o.Low)
	nova, err := env.Svc.Overview(ctx, accountOf(t, env, "nova@creditline.test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("nova: available %s, run-out %+v, low %+v", nova.Balance.Available, nova.RunOut, nova.Low)
}

// signedIn returns a browser-like client signed in as a demo user.
func signedIn(t *testing.T, env *webtest.Env, email string) *webtest.Client {
	t.Helper()
	c := env.Client(t)
	if p := c.Login(email, "demo-password"); p.Status != http.StatusSeeOther {
		t.Fatalf("login %s: %d", email, p.Status)
	}
	return c
}

// TestDashboardNeverShowsAnotherAccount: a signed-in customer who guesses another account's
// id, event id or key id gets a 404, and their own pages show only their own data.
func TestDashboardNeverShowsAnotherAccount(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	demo := seedDemo(t, env)
	demoKey, _, err := env.Svc.CreateAPIKey(ctx, demo.ID, "demo backend", "test")
	if err != nil {
		t.Fatal(err)
	}
	demoEvents, err := env.Svc.UsagePage(ctx, billing.UsageFilter{AccountID: demo.ID, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	eve := env.Client(t)
	eve.SignUp("Eve", "dash-eve@example.com", "long-enough-pw")
	for _, path := range []string{"/?account=" + demo.ID, "/prices?account=" + demo.ID, "/usage?account=" + demo.ID,
		"/usage/more?account=" + demo.ID, "/usage.csv?account=" + demo.ID, "/api-keys?account=" + demo.ID,
		"/prices/estimate?action=chat.completion&account=" + demo.ID, "/prices/estimator?account=" + demo.ID,
		"/usage/" + demoEvents[0].ID, "/usage/" + demoEvents[0].ID + "?account=" + demo.ID} {
		p := eve.Get(path)
		if p.Status != http.StatusNotFound {
			t.Errorf("eve GET %s: %d, want 404", path, p.Status)
		}
		if strings.Contains(p.Body, demoEvents[0].ID) || strings.Contains(p.Body, demo.Balance.Display()) {
			t.Errorf("eve GET %s shows the demo account's data", path)
		}
	}
	// Revoking or creating on someone else's account is a 404 and changes nothing.
	if p := eve.Submit("/api-keys", "/api-keys/"+demoKey.ID+"/revoke", url.Values{}); p.Status != http.StatusNotFound {
		t.Errorf("eve revokes demo's key: %d", p.Status)
	}
	if p := eve.Submit("/api-keys", "/api-keys?account="+demo.ID, url.Values{"name": {"sneaky"}}); p.Status != http.StatusNotFound {
		t.Errorf("eve creates a key on demo's account: %d", p.Status)
	}
	keys, err := env.Svc.APIKeys(ctx, demo.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.Name == "sneaky" || (k.ID == demoKey.ID && k.RevokedAt != nil) {
			t.Fatalf("eve changed demo's keys: %+v", k)
		}
	}
	// Eve's own pages: her 50 trial credits, no events, no keys of demo's.
	home := eve.Get("/")
	if got := strings.TrimSpace(home.Doc.Find(`[data-testid="balance"]`).Text()); got != "50" {
		t.Errorf("eve's balance %q", got)
	}
	for _, path := range []string{"/", "/usage", "/usage.csv", "/api-keys"} {
		p := eve.Get(path)
		if p.Status != 200 {
			t.Fatalf("eve GET %s: %d", path, p.Status)
		}
		for _, e := range demoEvents {
			if strings.Contains(p.Body, e.ID) || strings.Contains(p.Body, e.IdempotencyKey) {
				t.Errorf("eve GET %s shows demo's event %s", path, e.ID)
			}
		}
		if strings.Contains(p.Body, demoKey.Prefix) {
			t.Errorf("eve GET %s shows demo's key", path)
		}
	}
	if body := eve.Get("/usage.csv").Body; strings.Count(body, "\n") != 1 {
		t.Errorf("eve's export should be the header only:\n%s", body)
	}
	// Nova, with usage of her own, sees hers and not demo's.
	nova := signedIn(t, env, "nova@creditline.test")
	p := nova.Get("/usage")
	if p.Doc.Find(`[data-testid="usage-row"]`).Length() == 0 {
		t.Fatal("nova sees no usage of her own")
	}
	p.Doc.Find(`[data-testid="usage-row"]`).Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-event")
		if ev, err := env.Svc.UsageEvent(ctx, demo.ID, id); err == nil {
			t.Errorf("nova's usage lists demo's event %s", ev.ID)
		}
	})
	// And the owner sees her own event page.
	demoC := signedIn(t, env, "demo@creditline.test")
	if p := demoC.Get("/usage/" + demoEvents[0].ID); p.Status != 200 || p.Doc.Find(`[data-testid="usage-event"]`).Length() != 1 {
		t.Errorf("demo's own event page: %d", p.Status)
	}
}

// TestDashboardPagesLabelEveryField: every visible input and select of every dashboard page
// has a label (or an aria-label), every button a name, and nothing takes a positive tabindex.
func TestDashboardPagesLabelEveryField(t *testing.T) {
	env := webtest.Start(t)
	demo := seedDemo(t, env)
	evs, err := env.Svc.UsagePage(context.Background(), billing.UsageFilter{AccountID: demo.ID, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := signedIn(t, env, "demo@creditline.test")
	free := env.Client(t)
	free.SignUp("Free", "dash-labels@example.com", "long-enough-pw")
	pages := []struct {
		c    *webtest.Client
		path string
	}{
		{c, "/"}, {c, "/prices"}, {c, "/usage"}, {c, "/usage?action=chat.completion&from=2020-01-01"}, {c, "/usage/" + evs[0].ID},
		{c, "/api-keys"}, {c, "/prices/estimator?action=image.generate"}, {c, "/prices/estimator?action=text.generate"},
		{c, "/usage/more?cursor=" + handlers.UsageCursor(evs[0].OccurredAt, evs[0].ID)},
		{free, "/"}, {free, "/usage"}, {free, "/api-keys"}, {free, "/prices"},
	}
	for _, pg := range pages {
		path := pg.path
		p := pg.c.Get(path)
		if p.Status != 200 {
			t.Fatalf("GET %s: %d", path, p.Status)
		}
		fields := p.Doc.Find(`input:not([type="hidden"]), select, textarea`)
		if path == "/prices" && fields.Length() < 3 {
			t.Fatalf("the estimator has %d fields", fields.Length())
		}
		fields.Each(func(_ int, s *goquery.Selection) {
			id, _ := s.Attr("id")
			name, _ := s.Attr("name")
			_, aria := s.Attr("aria-label")
			label := strings.TrimSpace(p.Doc.Find(`label[for="` + id + `"]`).Text())
			if !aria && (id == "" || label == "") {
				t.Errorf("%s: field %q (id %q) has no label", path, name, id)
			}
		})
		p.Doc.Find(`button`).Each(func(_ int, s *goquery.Selection) {
			if _, ok := s.Attr("aria-label"); !ok && strings.TrimSpace(s.Text()) == "" {
				t.Errorf("%s: a button has no name", path)
			}
		})
		p.Doc.Find(`[tabindex]`).Each(func(_ int, s *goquery.Selection) {
			if v, _ := s.Attr("tabindex"); v != "0" && v != "-1" {
				t.Errorf("%s: tabindex %s breaks the tab order", path, v)
			}
		})
		p.Doc.Find(`svg[role="img"]`).Each(func(_ int, s *goquery.Selection) {
			if _, ok := s.Attr("aria-labelledby"); !ok || s.Find("title").Length() == 0 {
				t.Errorf("%s: a chart has no accessible name", path)
			}
		})
	}
}

// TestMemberOfAnotherAccount: a user who is a member (not owner) of a Pro account opens it with
// ?account=, its links keep it, and key management is a 404 for them.
func TestMemberOfAnotherAccount(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	demo := seedDemo(t, env)
	key, _, err := env.Svc.CreateAPIKey(ctx, demo.ID, "owner's key", "test")
	if err != nil {
		t.Fatal(err)
	}
	m := env.Client(t)
	m.SignUp("Member", "dash-member@example.com", "long-enough-pw")
	u, err := env.Store.UserByEmail(ctx, "dash-member@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.InTx(ctx, func(tx billing.Tx) error {
		return tx.AddMembership(ctx, billing.Membership{AccountID: demo.ID, UserID: u.ID, Role: billing.RoleMember, CreatedAt: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	bal, err := env.Svc.Balance(ctx, demo.ID)
	if err != nil {
		t.Fatal(err)
	}
	q := "?account=" + demo.ID
	if p := m.Get("/" + q); strings.TrimSpace(p.Doc.Find(`[data-testid="balance"]`).Text()) != bal.Available.Display() {
		t.Fatalf("member's view of the team balance: %d %q", p.Status, p.Doc.Find(`[data-testid="balance"]`).Text())
	}
	if p := m.Get("/"); strings.TrimSpace(p.Doc.Find(`[data-testid="balance"]`).Text()) != "50" {
		t.Fatal("without ?account= the member sees their own account")
	}
	// A member sees only their own usage (none here): the owner's history stays hidden, and the
	// page's links and filters keep the account.
	p := m.Get("/usage" + q)
	if n := p.Doc.Find(`[data-testid="usage-row"]`).Length(); n != 0 {
		t.Fatalf("a member sees %d events of others", n)
	}
	if acc, _ := p.Doc.Find(`[data-testid="usage-filters"] input[name="account"]`).Attr("value"); acc != demo.ID {
		t.Fatalf("the filters drop the account: %q", acc)
	}
	if csvHref, _ := p.Doc.Find(`[data-testid="export-csv"]`).Attr("href"); !strings.Contains(csvHref, "account="+demo.ID) {
		t.Fatalf("export drops the account: %q", csvHref)
	}
	if p := m.Get("/api-keys" + q); p.Status != http.StatusNotFound {
		t.Fatalf("a member opens key management: %d, want 404", p.Status)
	}
	if p := m.Submit("/usage"+q, "/api-keys"+q, url.Values{"name": {"member key"}}); p.Status != http.StatusNotFound {
		t.Errorf("member creates a key: %d", p.Status)
	}
	if p := m.Submit("/usage"+q, "/api-keys/"+key.ID+"/revoke"+q, url.Values{}); p.Status != http.StatusNotFound {
		t.Errorf("member revokes a key: %d", p.Status)
	}
	keys, _ := env.Svc.APIKeys(ctx, demo.ID)
	for _, k := range keys {
		if k.Name == "member key" || (k.ID == key.ID && k.RevokedAt != nil) {
			t.Fatalf("a member changed the keys: %+v", k)
		}
	}
}
