package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// intoDebt takes the trial credits back and spends 3 credits on a 10-credit overdraft.
func (a *adminEnv) intoDebt() {
	a.t.Helper()
	api := a.PlatformKey(a.t)
	if r := api.Do("POST", "/api/v1/accounts/"+a.acc.ID+"/grants/"+a.firstGrantID()+"/revoke", map[string]any{"reason": "test", "idempotency_key": "debt-r"}); r.Status != http.StatusOK {
		a.t.Fatalf("revoke: %d %s", r.Status, r.Raw)
	}
	if r := api.Do("PATCH", "/api/v1/accounts/"+a.acc.ID, map[string]any{"overdraft_limit": "10", "reason": "invoiced customer"}); r.Status != http.StatusOK {
		a.t.Fatalf("overdraft: %d %s", r.Status, r.Raw)
	}
	for _, k := range []string{"d1", "d2", "d3"} {
		if r := api.Do("POST", "/api/v1/usage", flat(a.acc.ID, k)); r.Status != http.StatusCreated {
			a.t.Fatalf("usage: %d %s", r.Status, r.Raw)
		}
	}
	if b := a.balance(); b != "-3" {
		a.t.Fatalf("balance %s, want -3", b)
	}
}

func TestAdminSettleDebtRecordsAnInvoicedPayment(t *testing.T) {
	a := newAdminEnv(t)
	if p := a.adm.Get(a.page()); p.Doc.Find(`[data-testid="form-settle"]`).Length() != 0 {
		t.Fatal("settle form shown without a debt")
	}
	a.intoDebt()
	if got := a.adm.Get(a.page()).Doc.Find(`[data-testid="settle-debt"]`).Text(); got != "3" {
		t.Fatalf("debt shown %q", got)
	}
	// Less than the debt, or no amount received: refused with the input kept, nothing moved.
	bad := a.post("settle", url.Values{"credits": {"2"}, "paid_amount": {""}, "currency": {"usd"}, "reason": {"invoice paid"}})
	if bad.Status != 422 || bad.Doc.Find(`[data-testid="error-paid_amount"]`).Length() != 1 || a.balance() != "-3" {
		t.Fatalf("no amount: %d", bad.Status)
	}
	bad = a.post("settle", url.Values{"credits": {"2"}, "paid_amount": {"30"}, "currency": {"usd"}, "reason": {"invoice paid"}})
	if bad.Status != 422 || bad.Doc.Find(`[data-testid="error-credits"]`).Length() != 1 || a.balance() != "-3" {
		t.Fatalf("less than the debt: %d", bad.Status)
	}
	// Credits empty: the whole debt. Confirmed first; a double submit settles once.
	p := a.post("settle", url.Values{"paid_amount": {"30.00"}, "currency": {"usd"}, "reference": {"INV-7"}, "reason": {"invoice paid"}})
	if p.Status != http.StatusOK || p.Doc.Find(`[data-testid="confirm"]`).Length() != 1 || a.balance() != "-3" {
		t.Fatalf("before confirming: %d, balance %s", p.Status, a.balance())
	}
	confirm := url.Values{}
	p.Doc.Find(`[data-testid="confirm"] input`).Each(func(_ int, s *goquery.Selection) {
		n, _ := s.Attr("name")
		val, _ := s.Attr("value")
		confirm.Set(n, val)
	})
	if confirm.Get("credits") != "3" {
		t.Fatalf("confirmation carries credits %q", confirm.Get("credits"))
	}
	for i := range 2 {
		r := a.adm.PostForm(a.page()+"/settle", confirm)
		if r.Status != http.StatusSeeOther || !strings.HasSuffix(r.Header.Get("Location"), "?done=settle") {
			t.Fatalf("confirm %d: %d %s", i, r.Status, r.Body)
		}
	}
	if b := a.balance(); b != "0" {
		t.Fatalf("balance %s after settling", b)
	}
	page := a.adm.Get(a.page())
	if page.Doc.Find(`[data-testid="admin-debt"]`).Text() != "0" || page.Doc.Find(`[data-testid="form-settle"]`).Length() != 0 {
		t.Fatalf("debt after settling: %q", page.Doc.Find(`[data-testid="admin-debt"]`).Text())
	}
	var settles int
	for _, act := range a.auditActions() {
		if act == "debt.settle" {
			settles++
		}
	}
	if settles != 1 {
		t.Fatalf("%d settle audit entries, want 1: %v", settles, a.auditActions())
	}
	g, err := a.Store.GrantsOf(t.Context(), a.acc.ID, 1)
	if err != nil || len(g) != 1 || g[0].Source != "adjustment" || g[0].PaidAmount != 3000 || g[0].Currency != "usd" || !strings.Contains(g[0].Reason, "INV-7") {
		t.Fatalf("settle grant: %+v %v", g, err)
	}
	confirm.Set("idempotency_key", "another")
	if r := a.cust.Submit("/", a.page()+"/settle", confirm); r.Status != http.StatusNotFound || a.balance() != "0" {
		t.Fatalf("customer settle: %d, balance %s", r.Status, a.balance())
	}
}
