package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"creditline/web/webtest"
)

// TestSimulationShownOnEveryInstance: a simulation run through server A is shown by server B
// (same database) with the same figures, and B starting it for the same edit joins A's run.
func TestSimulationShownOnEveryInstance(t *testing.T) {
	a := newAdminEnv(t)
	keepCatalog(t, a.Env)
	envB := webtest.Start(t)
	admB := envB.Client(t)
	if p := admB.Login(a.boss, "admin-password"); p.Status != http.StatusSeeOther {
		t.Fatalf("admin login on B: %d", p.Status)
	}
	d, err := a.Svc.CreatePriceDraft(context.Background(), a.boss)
	if err != nil {
		t.Fatal(err)
	}
	draft := "/admin/pricing/drafts/" + strconv.FormatInt(d.ID, 10)
	if r := hxSubmit(t, a, draft, draft+"/simulate", url.Values{}); r.Status != http.StatusOK {
		t.Fatalf("simulate on A: %d", r.Status)
	}
	var onA string
	for deadline := time.Now().Add(30 * time.Second); onA == ""; time.Sleep(100 * time.Millisecond) {
		if p := a.adm.GetHX(draft + "/simulation"); p.Doc.Find(`[data-testid="sim-result"]`).Length() == 1 {
			onA = strings.TrimSpace(p.Doc.Find(`[data-testid="sim-events"]`).Text())
		}
		if time.Now().After(deadline) {
			t.Fatal("the simulation did not finish on A")
		}
	}
	saved, ok, err := a.Store.Simulation(context.Background(), d.ID)
	if err != nil || !ok || saved.Finished == nil {
		t.Fatalf("saved simulation: %+v %v %v", saved, ok, err)
	}
	p := admB.GetHX(draft + "/simulation")
	if p.Doc.Find(`[data-testid="sim-result"]`).Length() != 1 || strings.TrimSpace(p.Doc.Find(`[data-testid="sim-events"]`).Text()) != onA {
		t.Fatalf("B shows %q, A showed %q", p.Doc.Find(`[data-testid="simulation"]`).Text(), onA)
	}
	tok, _ := admB.Get(draft).Doc.Find(`input[name="_csrf"]`).First().Attr("value")
	req, _ := http.NewRequest(http.MethodPost, envB.URL+draft+"/simulate", strings.NewReader(url.Values{"_csrf": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	resp, err := admB.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	again, _, err := a.Store.Simulation(context.Background(), d.ID)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("simulate on B: %d %v", resp.StatusCode, err)
	}
	if !again.Started.Equal(saved.Started) {
		t.Errorf("B ran the same edit again (started %s, A's %s)", again.Started, saved.Started)
	}
}
