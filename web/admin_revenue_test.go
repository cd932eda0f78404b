package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/web/webtest"
	"github.com/PuerkitoBio/goquery"
)

// revenueNow reads this month's usd row of the API report (zeros when there is none).
func revenueNow(t *testing.T, api *webtest.APIClient) map[string]float64 {
	t.Helper()
	r := api.Do("GET", "/api/v1/reports/revenue?month="+time.Now().UTC().Format("2006-01"), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("revenue report: %d %s", r.Status, r.Raw)
	}
	out := map[string]float64{}
	rows, _ := r.Body["data"].([]any)
	for _, x := range rows {
		row := x.(map[string]any)
		if row["currency"] == "usd" {
			for k, v := range row {
				if f, ok := v.(float64); ok {
					out[k] = f
				}
			}
		}
	}
	return out
}

// TestAdminRevenueReportFollowsTheLedger: a real paid grant's cash is deferred, a debit
// recognises its share; a test-mode purchase changes nothing; page, CSV and API agree.
func TestAdminRevenueReportFollowsTheLedger(t *testing.T) {
	a := newAdminEnv(t)
	ctx := context.Background()
	api := a.PlatformKey(t)
	before := revenueNow(t, api)
	if _, err := a.Svc.Grant(ctx, billing.GrantInput{AccountID: a.acc.ID, Source: "purchase", Amount: 100 * billing.Credit, PaidAmount: 1000, Currency: "usd", Reason: "pack"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Svc.Grant(ctx, billing.GrantInput{AccountID: a.acc.ID, Source: "purchase", Amount: 100 * billing.Credit, PaidAmount: 1000, Currency: "usd", TestMode: true, Reason: "test pack"}); err != nil {
		t.Fatal(err)
	}
	// The sign-up trial (50 credits, priority 10) goes first, then the paid grant (older than
	// the test-mode one, same priority): 25 paid credits are consumed.
	if _, err := a.Svc.Debit(ctx, billing.DebitInput{AccountID: a.acc.ID, Amount: 75 * billing.Credit, IdempotencyKey: "rev-" + a.tok}); err != nil {
		t.Fatal(err)
	}
	after := revenueNow(t, api)
	// Other tests of the package share the database: compare by difference.
	for k, want := range map[string]float64{"cash": 1000, "recognised": 250, "closing_deferred": 750, "opening_deferred": 0} {
		if got := after[k] - before[k]; got != want {
			t.Errorf("%s grew by %v, want %v", k, got, want)
		}
	}
	if after["opening_deferred"]+after["cash"]-after["recognised"]-after["breakage"]-after["refunds"] != after["closing_deferred"] {
		t.Errorf("identity broken: %v", after)
	}

	p := a.adm.Get("/admin/revenue")
	if p.Status != http.StatusOK {
		t.Fatalf("GET /admin/revenue: %d", p.Status)
	}
	month := time.Now().UTC().Format("2006-01")
	row := p.Doc.Find(`[data-testid="revenue-row"][data-month="` + month + `"][data-currency="usd"]`)
	if row.Length() != 1 {
		t.Fatalf("no usd row for %s", month)
	}
	if got := strings.TrimSpace(row.Find(`[data-testid="closing"]`).Text()); got != billing.FormatMoney(int64(after["closing_deferred"]), "usd") {
		t.Errorf("page closing %q, API %v", got, after["closing_deferred"])
	}
	if p.Doc.Find(`[data-testid="revenue-row"][data-currency="usd"]`).Length() != 12 || p.Doc.Find(`[data-testid="revenue-chart-usd"] svg`).Length() != 1 {
		t.Error("want 12 months and a chart for usd")
	}
	csv := a.adm.Get("/admin/revenue.csv")
	if csv.Status != http.StatusOK || !strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(csv.Body, "\n"+month+",usd,") || !strings.HasPrefix(csv.Body, "month,currency,opening_deferred") {
		t.Errorf("CSV: %d %s\n%s", csv.Status, csv.Header.Get("Content-Type"), csv.Body)
	}
	if g := a.adm.Get("/admin"); g.Doc.Find(`[data-testid="overview-deferred"]`).Length() != 1 || g.Doc.Find(`[data-testid="overview-margin"]`).Length() != 1 {
		t.Error("the overview shows no deferred revenue or margin")
	}
	if c := a.cust.Get("/admin/revenue"); c.Status != http.StatusNotFound {
		t.Errorf("customer GET /admin/revenue: %d", c.Status)
	}
}

func TestAPIRevenueReportRefusals(t *testing.T) {
	a := newAdminEnv(t)
	api := a.PlatformKey(t)
	for _, q := range []string{"", "?month=2026-13", "?month=26-11", "?month=1999-12"} {
		if r := api.Do("GET", "/api/v1/reports/revenue"+q, nil); r.Status != http.StatusBadRequest || r.Code() != "invalid_request" {
			t.Errorf("%q: %d %s", q, r.Status, r.Raw)
		}
	}
	if r := api.Do("GET", "/api/v1/reports/revenue?month=2001-01", nil); r.Status != http.StatusOK || r.Str("month") != "2001-01" {
		t.Errorf("empty month: %d %s", r.Status, r.Raw)
	}
	key := api.Do("POST", "/api/v1/accounts/"+a.acc.ID+"/api-keys", map[string]any{"name": "k"})
	if key.Status != http.StatusCreated {
		t.Fatalf("account key: %d %s", key.Status, key.Raw)
	}
	if r := api.WithKey(key.Str("key")).Do("GET", "/api/v1/reports/revenue?month=2026-11", nil); r.Status != http.StatusForbidden {
		t.Errorf("account key: %d %s", r.Status, r.Raw)
	}
}

// upload posts a vendor file as the browser's multipart form does.
func upload(t *testing.T, a *adminEnv, name, content string) *webtest.Page {
	t.Helper()
	form := a.adm.Get("/admin/reconciliation")
	tok, _ := form.Doc.Find(`form[data-testid="vendor-form"] input[name="_csrf"]`).Attr("value")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("_csrf", tok)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write([]byte(content))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/admin/reconciliation", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := a.adm.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	return &webtest.Page{Status: resp.StatusCode, Header: resp.Header, Doc: doc}
}

func TestAdminReconciliationUpload(t *testing.T) {
	a := newAdminEnv(t)
	imports := func() int { return a.adm.Get("/admin/reconciliation").Doc.Find(`[data-testid="import-row"]`).Length() }
	n0 := imports()
	bad := upload(t, a, "vendor.csv", "day,model,units,cost\n2001-01-01,m,1,1.00\n2001-01-02,m,lots,1.00\n")
	if bad.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad file: %d", bad.Status)
	}
	if msg := bad.Doc.Find(`[data-testid="error-file"]`).Text(); !strings.Contains(msg, "Line 3") || !strings.Contains(msg, "units") {
		t.Errorf("error %q names no line and reason", msg)
	}
	if imports() != n0 {
		t.Error("a refused file was kept")
	}
	// Nothing was recorded on these days: the zero line matches, the vendor-only one is flagged.
	ok := upload(t, a, "vendor.json", `[{"day":"2001-01-01","model":"quiet-`+a.tok+`","units":0,"cost":"0"},
		{"day":"2001-01-01","model":"vendor-only-`+a.tok+`","units":10,"cost":1.5}]`)
	if ok.Status != http.StatusSeeOther {
		t.Fatalf("good file: %d", ok.Status)
	}
	res := a.adm.Get(ok.Header.Get("Location"))
	lines := res.Doc.Find(`[data-testid="import-line"]`)
	if lines.Length() != 2 || res.Doc.Find(`[data-testid="import-line"][data-flagged="true"]`).Length() != 1 ||
		!strings.Contains(res.Doc.Find(`[data-testid="import-line"][data-flagged="true"]`).Text(), "vendor-only-"+a.tok) {
		t.Errorf("result lines: %d, flagged: %s", lines.Length(), res.Doc.Find(`[data-testid="import-result"]`).Text())
	}
	if imports() != n0+1 {
		t.Error("the import is not listed")
	}
}
