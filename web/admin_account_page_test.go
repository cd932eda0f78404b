package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/handlers"
	"creditline/web/webtest"
	"github.com/PuerkitoBio/goquery"
)

// acctAttrs returns the attribute attr of every element sel matches, in page order.
func acctAttrs(p *webtest.Page, sel, attr string) []string {
	var out []string
	p.Doc.Find(sel).Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr(attr)
		out = append(out, v)
	})
	return out
}

// acctPath turns a link of the page into a path the client can get (no fragment).
func acctPath(href string) string {
	if i := strings.IndexByte(href, '#'); i >= 0 {
		return href[:i]
	}
	return href
}

// apiAccount creates an account through the platform API: no members, grants, usage or
// payments.
func apiAccount(t *testing.T, a *adminEnv, name string) string {
	t.Helper()
	api := a.PlatformKey(t)
	r := api.Do("POST", "/api/v1/accounts", map[string]any{"external_id": name + "-" + a.tok, "name": name + " " + a.tok})
	if r.Status != http.StatusCreated {
		t.Fatalf("create account: %d %s", r.Status, r.Raw)
	}
	return r.Str("id")
}

// TestAdminEmptyStates: every list of the account page of an account with nothing in it says
// it is empty and what fills it; so do the customer search without a match and the audit
// log filtered to that account.
func TestAdminEmptyStates(t *testing.T) {
	a := newAdminEnv(t)
	id := apiAccount(t, a, "Empty")
	p := a.adm.Get("/admin/customers/" + id)
	if p.Status != http.StatusOK {
		t.Fatalf("account page: %d", p.Status)
	}
	for _, list := range []string{"grants", "holds", "ledger", "usage", "payments", "keys", "members", "audit"} {
		e := p.Doc.Find(`[data-empty="` + list + `"] [data-testid="empty"]`)
		if e.Length() != 1 {
			t.Errorf("%s: %d empty states, want 1", list, e.Length())
			continue
		}
		if title, hint := strings.TrimSpace(e.Find("p").First().Text()), strings.TrimSpace(e.Find("div p").Text()); title == "" || len(hint) < 20 {
			t.Errorf("%s: empty state %q / %q does not say what fills it", list, title, hint)
		}
	}
	if p.Doc.Find(`[data-empty="flags"]`).Length() != 1 {
		t.Error("no sentence saying the account has no abuse flags")
	}
	if n := p.Doc.Find(`[data-testid="ledger-row"], [data-testid="usage-row"]`).Length(); n != 0 {
		t.Errorf("%d ledger or usage rows on an empty account", n)
	}

	s := a.adm.Get("/admin/customers?q=" + url.QueryEscape("no-such-customer-"+a.tok))
	if e := s.Doc.Find(`[data-testid="empty"]`); s.Status != http.StatusOK || !strings.Contains(e.Text(), "No account matches") {
		t.Errorf("search without a match: %d, empty state %q", s.Status, e.Text())
	}
	au := a.adm.Get("/admin/audit?account=" + id)
	if e := au.Doc.Find(`[data-testid="empty"]`); au.Status != http.StatusOK || !strings.Contains(e.Text(), "No audit entries") {
		t.Errorf("audit log of the empty account: %d, empty state %q", au.Status, e.Text())
	}
}

// TestAdminLedgerPages: the account page's ledger is keyset-paginated newest first, 50 a
// page, each entry with its actor and reason; "Older entries" works as a plain link and as
// htmx rows (the same rows), and keeps the usage filters.
func TestAdminLedgerPages(t *testing.T) {
	a := newAdminEnv(t)
	ctx := context.Background()
	id := apiAccount(t, a, "Ledger")
	for i := range 3 {
		if _, err := a.Svc.Grant(ctx, billing.GrantInput{AccountID: id, Amount: billing.MustCredits("1000"), Source: "promo",
			Reason: "goodwill " + strconv.Itoa(i), Actor: "user:usr_ledgertest", IdempotencyKey: "g" + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Store.SeedBulkUsage(ctx, a.Svc, id, 110, 0, nil); err != nil {
		t.Fatal(err)
	}
	all, err := a.Svc.Ledger(ctx, id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) <= 2*billing.CustomerPageLedger {
		t.Fatalf("only %d entries: want more than two pages", len(all))
	}
	byID := map[string]billing.Entry{}
	for _, e := range all {
		byID[strconv.FormatInt(e.ID, 10)] = e
	}

	var seen []string
	path := "/admin/customers/" + id
	var firstMore string
	for pages := 0; path != ""; pages++ {
		p := a.adm.Get(path)
		if p.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, p.Status)
		}
		rows := p.Doc.Find(`[data-testid="ledger-row"]`)
		if rows.Length() == 0 || rows.Length() > billing.CustomerPageLedger {
			t.Fatalf("page %d: %d rows", pages, rows.Length())
		}
		rows.Each(func(_ int, r *goquery.Selection) {
			eid, _ := r.Attr("data-entry")
			e, ok := byID[eid]
			if !ok {
				t.Fatalf("row %q is not an entry of the account", eid)
			}
			if got := strings.TrimSpace(r.Find(`[data-testid="ledger-actor"]`).Text()); got != e.Actor {
				t.Errorf("entry %s: actor %q, want %q", eid, got, e.Actor)
			}
			if got := strings.TrimSpace(r.Find(`[data-testid="ledger-reason"]`).Text()); e.Reason != "" && got != e.Reason {
				t.Errorf("entry %s: reason %q, want %q", eid, got, e.Reason)
			}
			seen = append(seen, eid)
		})
		more := p.Doc.Find(`[data-testid="ledger-more"]`)
		href, _ := more.Attr("href")
		if pages == 0 {
			firstMore, _ = more.Attr("hx-get")
		}
		if more.Length() == 0 && p.Doc.Find(`[data-testid="ledger-end"]`).Length() != 1 {
			t.Errorf("page %d: neither older entries nor the end", pages)
		}
		if href != "" && !strings.HasSuffix(href, "#ledger") {
			t.Errorf("older entries link %q does not land on the ledger", href)
		}
		path = acctPath(href)
	}
	want := make([]string, len(all))
	for i, e := range all {
		want[i] = strconv.FormatInt(e.ID, 10)
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("walking the pages gave %d entries, want the %d of the ledger newest first", len(seen), len(want))
	}

	// htmx: the same second page, as rows with their own "Older entries".
	h := a.adm.Get(firstMore)
	if h.Status != http.StatusOK || strings.Contains(h.Body, "<html") || !strings.HasPrefix(strings.TrimSpace(h.Body), "<tr") {
		t.Fatalf("htmx rows %s: %d, want table rows only:\n%.300s", firstMore, h.Status, h.Body)
	}
	// Table rows parse only inside a table, as htmx parses them.
	h.Doc, _ = goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + h.Body + "</tbody></table>"))
	if got := acctAttrs(h, `[data-testid="ledger-row"]`, "data-entry"); !slices.Equal(got, want[billing.CustomerPageLedger:2*billing.CustomerPageLedger]) {
		t.Errorf("htmx rows %s: %d rows, want entries 51 to 100", firstMore, len(got))
	}
	if _, ok := h.Doc.Find(`[data-testid="ledger-row"]`).First().Attr("data-focus-on-load"); !ok || h.Doc.Find(`[data-focus-on-load]`).Length() != 1 {
		t.Error("the first new row does not take focus")
	}
	if more, _ := h.Doc.Find(`[data-testid="ledger-more"]`).Attr("hx-get"); !strings.Contains(more, "before="+want[2*billing.CustomerPageLedger-1]) {
		t.Errorf("the rows' own older entries %q", more)
	}

	// The ledger's links keep the usage filters; a forged cursor is a 400.
	p := a.adm.Get("/admin/customers/" + id + "?action=chat.completion")
	href, _ := p.Doc.Find(`[data-testid="ledger-more"]`).Attr("href")
	if !strings.Contains(href, "action=chat.completion") {
		t.Errorf("older entries link %q drops the usage filter", href)
	}
	if p := a.adm.Get("/admin/customers/" + id + "?before=abc"); p.Status != http.StatusBadRequest {
		t.Errorf("before=abc: %d, want 400", p.Status)
	}
}

// TestAdminUsageIsTheCustomersListing: with the same filters and cursor, the account page's
// usage lists exactly the events the customer's /usage does, and its "load more" (link and
// htmx) continues as the customer's does.
func TestAdminUsageIsTheCustomersListing(t *testing.T) {
	a := newAdminEnv(t)
	ctx := context.Background()
	demo := seedDemo(t, a.Env)
	cust := signedIn(t, a.Env, "demo@creditline.test")
	evs, err := a.Svc.UsagePage(ctx, billing.UsageFilter{AccountID: demo.ID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) < 60 {
		t.Fatalf("the demo has %d events; want more than a page", len(evs))
	}
	pick := evs[len(evs)/2]
	day := pick.OccurredAt.UTC().Format(time.DateOnly)
	admin := "/admin/customers/" + demo.ID
	usageIDs := func(p *webtest.Page) []string {
		return acctAttrs(p, `[data-testid="usage-row"]`, "data-event")
	}
	for _, q := range []url.Values{
		{},
		{"action": {pick.Action}},
		{"model": {pick.Model}},
		{"action": {pick.Action}, "model": {pick.Model}},
		{"from": {day}, "to": {day}},
		{"from": {"2001-01-01"}, "to": {"2001-01-02"}},
	} {
		qs := q.Encode()
		c, o := cust.Get("/usage?"+qs), a.adm.Get(admin+"?"+qs)
		if c.Status != http.StatusOK || o.Status != http.StatusOK {
			t.Fatalf("%s: customer %d, console %d", qs, c.Status, o.Status)
		}
		if cu, ou := usageIDs(c), usageIDs(o); !slices.Equal(cu, ou) {
			t.Errorf("%s: console lists %d events, customer %d (or in another order)", qs, len(ou), len(cu))
		}
		cs, os := strings.Join(strings.Fields(c.Doc.Find(`[data-testid="usage-summary"]`).Text()), " "),
			strings.Join(strings.Fields(o.Doc.Find(`[data-testid="usage-summary"]`).Text()), " ")
		if cs != os {
			t.Errorf("%s: console summary %q, customer %q", qs, os, cs)
		}
		if len(usageIDs(o)) == 0 && o.Doc.Find(`[data-empty="usage"]`).Length() != 1 {
			t.Errorf("%s: no events and no empty state", qs)
		}
		for _, f := range []string{"from", "to"} {
			if v, _ := o.Doc.Find(`#usage input[name="` + f + `"]`).Attr("value"); v != q.Get(f) {
				t.Errorf("%s: the console's %s filter shows %q", qs, f, v)
			}
		}
		for _, f := range []string{"action", "model"} {
			if v, _ := o.Doc.Find(`#usage select[name="` + f + `"] option[selected]`).Attr("value"); v != q.Get(f) {
				t.Errorf("%s: the console's %s filter shows %q", qs, f, v)
			}
		}
		if act, _ := o.Doc.Find(`#usage form[data-testid="usage-filters"]`).Attr("action"); act != admin+"#usage" {
			t.Errorf("filters post to %q, want this page", act)
		}

		// Load more: the customer's htmx rows against the console's, and its plain link.
		cm, _ := c.Doc.Find(`[data-testid="load-more"]`).Attr("hx-get")
		om, _ := o.Doc.Find(`[data-testid="load-more"]`).Attr("hx-get")
		ol, _ := o.Doc.Find(`[data-testid="load-more"]`).Attr("href")
		if (cm == "") != (om == "") {
			t.Fatalf("%s: load more for the customer %q, console %q", qs, cm, om)
		}
		if cm == "" {
			continue
		}
		if !strings.HasPrefix(om, admin+"/usage?") || !strings.HasPrefix(ol, admin+"?") || !strings.HasSuffix(ol, "#usage") {
			t.Errorf("%s: console load more %q / %q", qs, om, ol)
		}
		cr, orows, olink := cust.Get(cm), a.adm.Get(om), a.adm.Get(acctPath(ol))
		if cu, ou, lu := usageIDs(cr), usageIDs(orows), usageIDs(olink); len(cu) == 0 || !slices.Equal(cu, ou) || !slices.Equal(cu, lu) {
			t.Errorf("%s: next page: customer %d events, console htmx %d, console link %d (or not the same)", qs, len(cu), len(ou), len(lu))
		}
		if olink.Doc.Find(`#usage`).Text() == "" || !strings.Contains(olink.Doc.Find(`#usage`).Text(), "Showing older events") {
			t.Errorf("%s: the console's older page does not say so", qs)
		}
	}

	// A bad date is the customer's field error, on the console's form, and a 422.
	o := a.adm.Get(admin + "?from=2026-13-01")
	if o.Status != http.StatusUnprocessableEntity || !strings.Contains(o.Doc.Find(`#usage`).Text(), "Use a date like") {
		t.Errorf("from=2026-13-01: %d", o.Status)
	}
	if r := a.adm.Get(admin + "/usage?cursor=garbage"); r.Status != http.StatusBadRequest {
		t.Errorf("usage rows with a forged cursor: %d, want 400", r.Status)
	}
}

// TestAdminAccountPageTiming renders the account page (ledger and usage sections) of an
// account with a few thousand events, newest and deep pages, and logs the times: the lead's
// `make bench-pages` measures the 1M-event account. Tests never assert on time.
func TestAdminAccountPageTiming(t *testing.T) {
	a := newAdminEnv(t)
	ctx := context.Background()
	id := apiAccount(t, a, "Busy")
	const n = 5000
	if _, err := a.Store.SeedBulkUsage(ctx, a.Svc, id, n, 0, nil); err != nil {
		t.Fatal(err)
	}
	all, err := a.Svc.Ledger(ctx, id, 0, n+10)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := a.Svc.UsagePage(ctx, billing.UsageFilter{AccountID: id, Limit: n})
	if err != nil {
		t.Fatal(err)
	}
	deep := all[len(all)-10].ID
	last := evs[len(evs)-10]
	for _, c := range []struct{ name, path string }{
		{"newest", "/admin/customers/" + id},
		{"filtered", "/admin/customers/" + id + "?action=" + evs[0].Action + "&model=" + url.QueryEscape(evs[0].Model)},
		{"deep ledger", "/admin/customers/" + id + "?before=" + strconv.FormatInt(deep, 10)},
		{"deep usage", "/admin/customers/" + id + "?cursor=" + handlers.UsageCursor(last.OccurredAt, last.ID)},
		{"ledger rows", "/admin/customers/" + id + "/ledger?before=" + strconv.FormatInt(deep, 10)},
	} {
		var ds []time.Duration
		size := 0
		for range 7 {
			// The raw client: the time to the last byte, without parsing the page here.
			start := time.Now()
			resp, err := a.adm.HTTP.Get(a.URL + c.path)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			ds = append(ds, time.Since(start))
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %v", c.name, resp.StatusCode, err)
			}
			size = len(b)
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		t.Logf("%s (%d events, %d ledger entries, %d KB): median %s, max %s", c.name, n, len(all), size/1024,
			ds[len(ds)/2].Round(100*time.Microsecond), ds[len(ds)-1].Round(100*time.Microsecond))
	}
}
