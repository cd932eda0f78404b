package web_test

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/views/pages"
	"creditline/web/webtest"
	"github.com/PuerkitoBio/goquery"
)

// TestUsagePageFiltersPagesAndExports: the filters select what the store selects, "load more"
// continues without gaps or repeats, and the CSV holds exactly the filtered rows, escaped.
func TestUsagePageFiltersPagesAndExports(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	demo := seedDemo(t, env)
	// An event whose key and metadata need escaping, sent through the API like any other.
	_, secret, err := env.Svc.CreateAPIKey(ctx, demo.ID, "escape test", "test")
	if err != nil {
		t.Fatal(err)
	}
	api := env.PlatformKey(t).WithKey(secret)
	nasty := "=cmd,\"quoted\" next; line" // keys refuse control characters, so no newline here
	if r := api.Do(http.MethodPost, "/api/v1/usage", map[string]any{"account": demo.ID, "action": "video.generate",
		"quantities": map[string]any{"seconds": 3}, "idempotency_key": nasty, "metadata": map[string]any{"note": "a,b"}}); r.Status != 201 {
		t.Fatalf("usage: %d %s", r.Status, r.Raw)
	}
	c := signedIn(t, env, "demo@creditline.test")

	// Every page of one action, through "load more", is the store's list in order.
	want, err := env.Svc.UsagePage(ctx, billing.UsageFilter{AccountID: demo.ID, Action: "chat.completion", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	p := c.Get("/usage?action=chat.completion")
	var got []string
	for i := 0; ; i++ {
		if p.Status != 200 {
			t.Fatalf("page %d: %d", i, p.Status)
		}
		p.Doc.Find(`[data-testid="usage-row"]`).Each(func(_ int, s *goquery.Selection) {
			id, _ := s.Attr("data-event")
			got = append(got, id)
		})
		next, ok := p.Doc.Find(`[data-testid="load-more"]`).Attr("hx-get")
		if !ok {
			if p.Doc.Find(`[data-testid="usage-end"]`).Length() != 1 {
				t.Fatal("the last page does not say it is the end")
			}
			break
		}
		p = c.Get(next)
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows through load more, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i].ID {
			t.Fatalf("row %d is %s, want %s", i, got[i], want[i].ID)
		}
	}
	first := c.Get("/usage?action=chat.completion")
	if s := first.Doc.Find(`[data-testid="usage-summary"]`).Text(); !strings.Contains(s, thousands(len(want))+" events") {
		t.Errorf("summary %q, want %d events", s, len(want))
	}
	// Without JavaScript, "load more" is a link to the page after the cursor.
	href, _ := first.Doc.Find(`[data-testid="load-more"]`).Attr("href")
	if p := c.Get(href); p.Status != 200 || p.Doc.Find(`[data-testid="usage-row"]`).First().AttrOr("data-event", "") != want[usagePage].ID {
		t.Errorf("no-JS load more: %d", p.Status)
	}

	// A model and a date range: the rows and the CSV agree with the store.
	day := want[0].OccurredAt.UTC().Format("2006-01-02")
	from, _ := time.Parse("2006-01-02", day)
	to := from.AddDate(0, 0, 1)
	want, err = env.Svc.UsagePage(ctx, billing.UsageFilter{AccountID: demo.ID, Action: "chat.completion", Model: "small-open",
		From: &from, To: &to, Limit: 1000})
	if err != nil || len(want) == 0 {
		t.Fatalf("no events that day: %v", err)
	}
	q := "?action=chat.completion&model=small-open&from=" + day + "&to=" + day
	if n := c.Get("/usage" + q).Doc.Find(`[data-testid="usage-row"]`).Length(); n != min(len(want), usagePage) {
		t.Errorf("%d rows for one day, want %d", n, len(want))
	}
	resp, err := c.HTTP.Get(env.URL + "/usage.csv" + q)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="creditline-usage-`+demo.ID) || !strings.HasSuffix(cd, `.csv"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type %q", ct)
	}
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || len(recs) != len(want)+1 {
		t.Fatalf("csv: %v, %d records for %d events", err, len(recs), len(want))
	}
	for i, e := range want {
		if recs[i+1][1] != e.ID {
			t.Fatalf("csv row %d is %s, want %s", i, recs[i+1][1], e.ID)
		}
	}

	// The awkward key survives the round trip, kept inert for spreadsheets.
	recs = readCSV(t, c, env, "/usage.csv?action=video.generate")
	var found []string
	for _, r := range recs[1:] {
		if strings.Contains(r[8], "cmd") {
			found = r
		}
	}
	if found == nil || found[8] != "'"+nasty || found[13] != `{"note":"a,b"}` || found[5] != "seconds=3" {
		t.Fatalf("escaped row %q", found)
	}

	// A bad date is a message beside the field, not a server error.
	bad := c.Get("/usage?from=yesterday")
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Doc.Find(`[data-testid="error-from"]`).Text(), "date") {
		t.Errorf("bad date: %d", bad.Status)
	}
	if p := c.Get("/usage.csv?from=yesterday"); p.Status != http.StatusBadRequest {
		t.Errorf("csv with a bad date: %d", p.Status)
	}
	if p := c.Get("/usage/more?cursor=garbage"); p.Status != http.StatusBadRequest {
		t.Errorf("load more with a bad cursor: %d", p.Status)
	}
}

const usagePage = 50

// thousands formats a count as the pages do: "1,045".
func thousands(n int) string { return billing.Credits(n * 1000).Display() }

func readCSV(t *testing.T, c *webtest.Client, env *webtest.Env, path string) [][]string {
	t.Helper()
	resp, err := c.HTTP.Get(env.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	recs, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestEstimatorNeverCharges: the estimate fragment prices with the charge's engine, shows
// how many the balance covers, reports bad input as 422, and moves no credit.
func TestEstimatorNeverCharges(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	demo := seedDemo(t, env)
	before, err := env.Svc.Balance(ctx, demo.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := signedIn(t, env, "demo@creditline.test")
	p := c.Get("/prices/estimate?action=chat.completion&model=gpt-4o&input_tokens=2000&output_tokens=1000")
	if p.Status != 200 {
		t.Fatalf("estimate: %d %s", p.Status, p.Body)
	}
	// (2.5×2 + 10×1) × 0.9 = 13.5 on Pro.
	if got := strings.TrimSpace(p.Doc.Find(`[data-testid="estimate-credits"]`).Text()); got != "13.5" {
		t.Fatalf("credits %q", got)
	}
	covers := before.Available / billing.MustCredits("13.5")
	if s := p.Doc.Find(`[data-testid="estimate-covers"]`).Text(); !strings.Contains(s, "≈ "+thousands(int(covers))) {
		t.Errorf("covers %q, want ≈ %d", s, covers)
	}
	if p.Doc.Find(`[data-testid="estimate-breakdown"]`).Text() == "" || !strings.Contains(p.Body, "Pro plan") {
		t.Error("no breakdown")
	}
	for _, q := range []string{"input_tokens=abc", "input_tokens=1.5", "input_tokens=-3"} {
		p := c.Get("/prices/estimate?action=chat.completion&model=gpt-4o&" + q)
		if p.Status != http.StatusUnprocessableEntity || p.Doc.Find(`[data-testid="estimate-error"]`).Length() == 0 {
			t.Errorf("%s: %d", q, p.Status)
		}
	}
	// The whole estimator for another action, with its own fields.
	p = c.Get("/prices/estimator?action=file.process")
	if p.Doc.Find(`#est-megabytes`).Length() != 1 || p.Doc.Find(`#est-input_tokens`).Length() != 0 {
		t.Error("the file.process estimator lacks its megabytes field")
	}
	// Without JavaScript, the form submits to the page itself.
	p = c.Get("/prices?action=image.generate&model=dall-e-3&quality=hd&images=2")
	if got := strings.TrimSpace(p.Doc.Find(`[data-testid="estimate-credits"]`).Text()); got != "45" {
		t.Errorf("no-JS estimate %q, want 45 (25 × 2 × 0.9)", got)
	}
	after, err := env.Svc.Balance(ctx, demo.ID)
	if err != nil || after.Balance != before.Balance || after.Reserved != before.Reserved {
		t.Fatalf("estimating moved credits: %v → %v (%v)", before.Balance, after.Balance, err)
	}
	// A Free account sees the premium price and that it would be refused.
	free := env.Client(t)
	free.SignUp("Free", "dash-estimate@example.com", "long-enough-pw")
	p = free.Get("/prices/estimate?action=chat.completion&model=gpt-4o&input_tokens=1000&output_tokens=0")
	if strings.TrimSpace(p.Doc.Find(`[data-testid="estimate-credits"]`).Text()) != "2.5" || p.Doc.Find(`[data-testid="estimate-refused"]`).Length() != 1 {
		t.Errorf("free plan gpt-4o: %s", p.Doc.Find(`#estimate-result`).Text())
	}
}

// TestAPIKeysNeedAPIAccess: the portal refuses key creation without api_access and says
// which plans have it; the operator's endpoint still issues keys for any plan.
func TestAPIKeysNeedAPIAccess(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	env.Svc.SeedDemo(ctx)
	free := env.Client(t)
	free.SignUp("Free", "dash-keys@example.com", "long-enough-pw")
	p := free.Get("/api-keys")
	txt := p.Doc.Find(`[data-testid="not-entitled"]`).Text()
	if !strings.Contains(txt, "Pro and Enterprise") || p.Doc.Find(`[data-testid="create-key-form"]`).Length() != 0 {
		t.Fatalf("free plan keys page: %q", txt)
	}
	p = free.Submit("/api-keys", "/api-keys", url.Values{"name": {"mine"}})
	if p.Status != http.StatusForbidden || !strings.Contains(p.Doc.Find(`[data-testid="flash"]`).Text(), "api_access") {
		t.Fatalf("free plan create: %d %s", p.Status, p.Doc.Find(`[data-testid="flash"]`).Text())
	}
	acc := accountOf(t, env, "dash-keys@example.com")
	u, err := env.Store.UserByEmail(ctx, "dash-keys@example.com")
	if err != nil {
		t.Fatal(err)
	}
	_, owner, err := env.Svc.AccountForUser(ctx, u.ID, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.Svc.CreateMemberAPIKey(ctx, acc, owner, "x", billing.Op{}); billing.ErrorCode(err) != billing.ENotEntitled {
		t.Fatalf("CreateMemberAPIKey on free: %v", err)
	}
	if keys, _ := env.Svc.APIKeys(ctx, acc.ID); len(keys) != 0 {
		t.Fatalf("free account got %d keys", len(keys))
	}
	if r := env.PlatformKey(t).Do(http.MethodPost, "/api/v1/accounts/"+acc.ID+"/api-keys", map[string]any{"name": "by operator"}); r.Status != 201 {
		t.Fatalf("operator key for a free account: %d %s", r.Status, r.Raw)
	}
	// Pro: a nameless key is a message beside the field; a named one is shown once.
	c := signedIn(t, env, "demo@creditline.test")
	p = c.Submit("/api-keys", "/api-keys", url.Values{"name": {"  "}})
	if p.Status != http.StatusUnprocessableEntity || p.Doc.Find(`[data-testid="error-name"]`).Length() != 1 {
		t.Fatalf("nameless key: %d", p.Status)
	}
	p = c.Submit("/api-keys", "/api-keys", url.Values{"name": {"ci"}})
	secret := strings.TrimSpace(p.Doc.Find(`[data-testid="new-key-secret"]`).Text())
	if p.Status != 200 || !strings.HasPrefix(secret, "ak_") || p.Doc.Find(`[data-copy="new-key-secret"]`).Length() != 1 {
		t.Fatalf("create: %d %q", p.Status, secret)
	}
	if strings.Contains(c.Get("/api-keys").Body, secret) {
		t.Fatal("the secret is shown again")
	}
}

// TestOverviewFigures: the overview shows what the read model computed, the low-balance
// banner with a one-click top-up when it applies, and empty states that say what to do.
func TestOverviewFigures(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	demo := seedDemo(t, env)
	o, err := env.Svc.Overview(ctx, demo)
	if err != nil {
		t.Fatal(err)
	}
	p := signedIn(t, env, "demo@creditline.test").Get("/")
	if got := strings.TrimSpace(p.Doc.Find(`[data-testid="balance"]`).Text()); got != o.Balance.Available.Display() {
		t.Errorf("balance %q, want %s", got, o.Balance.Available.Display())
	}
	if o.MostUsed == nil || !strings.Contains(p.Doc.Find(`[data-testid="buys"]`).Text(), "≈ "+thousands(int(o.MostUsed.Covers))) {
		t.Errorf("buys %q (%+v)", p.Doc.Find(`[data-testid="buys"]`).Text(), o.MostUsed)
	}
	if o.RunOut.At == nil || !strings.Contains(p.Doc.Find(`[data-testid="runout"]`).Text(), o.RunOut.At.Format("January 2, 2006")) {
		t.Errorf("run-out %q", p.Doc.Find(`[data-testid="runout"]`).Text())
	}
	if p.Doc.Find(`[data-testid="usage-chart"] svg rect`).Length() < 30 || p.Doc.Find(`[data-testid="chart-table"] tbody tr`).Length() != 30 {
		t.Error("the chart lacks its bars or its table")
	}
	if p.Doc.Find(`[data-testid="low-balance"]`).Length() != 0 {
		t.Error("demo is not low on credits")
	}
	// Nova spends her pack fast: the banner offers a pack in one click. Her spend shows
	// against the monthly limit once she sets one.
	nova := accountOf(t, env, "nova@creditline.test")
	limit := billing.MustCredits("500")
	if err := env.Svc.SetSpendLimit(ctx, nova.ID, &limit, billing.SpendHard, nil); err != nil {
		t.Fatal(err)
	}
	p = signedIn(t, env, "nova@creditline.test").Get("/")
	spend := p.Doc.Find(`[data-testid="spend"]`)
	if !strings.Contains(spend.Text(), "of your 500 limit (hard)") || spend.Find(`[role="progressbar"]`).Length() != 1 {
		t.Errorf("spend against the limit: %q", spend.Text())
	}
	banner := p.Doc.Find(`[data-testid="low-balance"]`)
	pack := banner.Find(`form[action="/billing/checkout"] input[name="key"]`).AttrOr("value", "")
	if banner.Length() != 1 || pack == "" || banner.Find(`input[name="_csrf"]`).Length() != 1 {
		t.Fatalf("nova's low-balance banner: %q", banner.Text())
	}
	// One click: the banner's form starts a checkout for that pack.
	novaC := signedIn(t, env, "nova@creditline.test")
	if p := novaC.Submit("/", "/billing/checkout", url.Values{"kind": {"pack"}, "key": {pack}}); p.Status != http.StatusSeeOther ||
		!strings.Contains(p.Header.Get("Location"), "/checkout/") {
		t.Fatalf("top-up from the banner: %d %s", p.Status, p.Header.Get("Location"))
	}
	// A new account: empty states with a next step.
	fresh := env.Client(t)
	fresh.SignUp("New", "dash-new@example.com", "long-enough-pw")
	p = fresh.Get("/")
	if !strings.Contains(p.Doc.Find(`[data-testid="empty"]`).Text(), "POST /api/v1/usage") {
		t.Errorf("no first-event hint: %q", p.Doc.Find(`[data-testid="empty"]`).Text())
	}
	if p := fresh.Get("/usage"); !strings.Contains(p.Doc.Find(`[data-testid="empty"]`).Text(), "No usage yet") {
		t.Error("no empty state on /usage")
	}
}

// TestPricesPageShowsTheSchedule: with time-of-day pricing on, the prices page lists its
// windows and marks the one in force.
func TestPricesPageShowsTheSchedule(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	demo := seedDemo(t, env)
	pl, err := env.Svc.PriceList(ctx, demo)
	if err != nil {
		t.Fatal(err)
	}
	if pl.Schedule.Enabled {
		t.Fatal("the demo book has the schedule off")
	}
	pl.Schedule = billing.SeedPriceBook().Data().Schedule
	pl.Schedule.Enabled, pl.ActiveWindow = true, "peak"
	var b strings.Builder
	if err := pages.PricesPage(pages.Prices{Account: demo, List: pl}).Render(ctx, &b); err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	rows := doc.Find(`[data-testid="schedule-table"] tbody tr`)
	if rows.Length() != 2 || !strings.Contains(rows.First().Text(), "in force now") || !strings.Contains(rows.First().Text(), "×1.5") ||
		!strings.Contains(rows.First().Text(), "Weekdays") || !strings.Contains(rows.Last().Text(), "02:00–08:00") {
		t.Fatalf("schedule: %q", rows.Text())
	}
	// Every rate of the live book is listed, on the plan's prices (gpt-4o input 2.5 × 0.9).
	p := signedIn(t, env, "demo@creditline.test").Get("/prices")
	if n := p.Doc.Find(`[data-testid="price-row"]`).Length(); n != 12 {
		t.Errorf("%d price rows, want the 12 seed rates", n)
	}
	table := p.Doc.Find(`[data-testid="price-table"]`).Text()
	if !strings.Contains(table, "input tokens: 2.25 per 1k tokens") || !strings.Contains(table, "output tokens: 9 per 1k tokens") {
		t.Error("gpt-4o is not shown at the Pro price, per quantity")
	}
	if p.Doc.Find(`[data-testid="schedule-table"]`).Length() != 0 {
		t.Error("a schedule that is off is shown")
	}
}
