package web_test

import (
	"net/http"
	"strings"
	"testing"

	"creditline/billing"
)

// overviewFigure reads one figure of /admin as credits (or a count).
func (a *adminEnv) overviewFigure(testid string) billing.Credits {
	a.t.Helper()
	p := a.adm.Get("/admin")
	if p.Status != http.StatusOK {
		a.t.Fatalf("GET /admin: %d", p.Status)
	}
	s := strings.ReplaceAll(strings.TrimSpace(p.Doc.Find(`[data-testid="`+testid+`"]`).Text()), ",", "")
	c, err := billing.ParseCredits(s)
	if err != nil {
		a.t.Fatalf("%s: %q: %v", testid, s, err)
	}
	return c
}

func TestAdminOverviewCountsTodayFromRollups(t *testing.T) {
	a := newAdminEnv(t)
	if p := a.cust.Get("/admin"); p.Status != http.StatusNotFound {
		t.Fatalf("customer GET /admin: %d", p.Status)
	}
	before := map[string]billing.Credits{}
	ids := []string{"today-consumed", "month-consumed", "today-issued", "today-402", "month-402", "today-active"}
	for _, id := range ids {
		before[id] = a.overviewFigure(id)
	}
	api := a.PlatformKey(t)
	r := api.Do("POST", "/api/v1/usage", flat(a.acc.ID, "ov-1"))
	if r.Status != http.StatusCreated {
		t.Fatalf("usage: %d %s", r.Status, r.Raw)
	}
	spent, _ := billing.ParseCredits(r.Str("credits"))
	if l := api.Do("PATCH", "/api/v1/accounts/"+a.acc.ID, map[string]any{"spend_limit": map[string]any{"credits": r.Str("credits"), "mode": "hard"}, "reason": "overview test"}); l.Status != http.StatusOK {
		t.Fatalf("spend limit: %d %s", l.Status, l.Raw)
	}
	if big := api.Do("POST", "/api/v1/usage", flat(a.acc.ID, "ov-2")); big.Status != http.StatusPaymentRequired {
		t.Fatalf("large usage: %d %s", big.Status, big.Raw)
	}
	if g := api.Do("POST", "/api/v1/accounts/"+a.acc.ID+"/grants", map[string]any{"credits": "7", "source": "promo", "idempotency_key": "ov-g", "reason": "overview test"}); g.Status != http.StatusCreated {
		t.Fatalf("grant: %d %s", g.Status, g.Raw)
	}
	want := map[string]billing.Credits{"today-consumed": spent, "month-consumed": spent, "today-issued": 7 * billing.Credit,
		"today-402": billing.Credit, "month-402": billing.Credit, "today-active": billing.Credit}
	for _, id := range ids {
		if got := a.overviewFigure(id) - before[id]; got != want[id] {
			t.Errorf("%s grew by %s, want %s", id, got.Display(), want[id].Display())
		}
	}
	p := a.adm.Get("/admin")
	if p.Doc.Find(`[data-testid="usage-chart"]`).Length() == 0 {
		t.Error("no 30-day chart after usage")
	}
	if p.Doc.Find(`[data-testid="top-row"][data-account="`+a.acc.ID+`"]`).Length() == 0 && p.Doc.Find(`[data-testid="top-row"]`).Length() < 5 {
		t.Error("the account that spent is not among the top accounts")
	}
}
