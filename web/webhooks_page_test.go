package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/webhooks"
	"creditline/web/webtest"
)

// flakyReceiver answers its first request 500 and every later one 200.
func flakyReceiver(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if n.Add(1) == 1 {
			w.WriteHeader(500)
			io.WriteString(w, "upstream unavailable\n")
			return
		}
		io.WriteString(w, `{"received":true}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// waitDeliveries polls the service until the endpoint's deliveries satisfy ok.
func waitDeliveries(t *testing.T, env *webtest.Env, acc, ep string, ok func([]webhooks.Delivery) bool) []webhooks.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds, err := env.Hooks.Deliveries(context.Background(), acc, ep, 50)
		if err != nil {
			t.Fatal(err)
		}
		if ok(ds) {
			return ds
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries never settled: %+v", ds)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func auditActions(t *testing.T, env *webtest.Env, acc string) []string {
	t.Helper()
	p, err := env.Svc.AuditLog(context.Background(), billing.AuditFilter{AccountID: acc, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range p.Entries {
		if e.ActorKind == billing.ActorUser {
			out = append(out, e.Action)
		}
	}
	return out
}

func TestWebhooksPageAddTestResendDelete(t *testing.T) {
	env := webtest.Start(t)
	// Fresh accounts: the package's tests share one database, and the demo's gets endpoints elsewhere.
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	c := env.Client(t)
	c.SignUp("Hook Owner", "hooks-"+tag+"@example.com", "long-enough-pw")
	acc := accountOf(t, env, "hooks-"+tag+"@example.com")
	nova := env.Client(t)
	nova.SignUp("Hook Other", "hooks-other-"+tag+"@example.com", "long-enough-pw")
	rcv, hits := flakyReceiver(t)

	p := c.Get("/limits/webhooks")
	if p.Status != 200 || p.Doc.Find(`[data-testid="empty"]`).Length() != 1 || p.Doc.Find(`label[for="endpoint-url"]`).Length() != 1 {
		t.Fatalf("empty page: %d", p.Status)
	}
	// A bad URL re-renders the form, the message beside the field, focus on it, input kept.
	p = c.Submit("/limits/webhooks", "/limits/webhooks", url.Values{"url": {"ftp://hooks.example/x"}, "events": {"payment.failed"}})
	if p.Status != http.StatusUnprocessableEntity || text(p, `[data-testid="error-url"]`) == "" {
		t.Fatalf("bad url: %d %s", p.Status, text(p, `[data-testid="error-url"]`))
	}
	in := p.Doc.Find(`#endpoint-url`)
	if v, _ := in.Attr("value"); v != "ftp://hooks.example/x" || in.AttrOr("autofocus", "none") == "none" {
		t.Errorf("the field after an error: value %q, autofocus %v", v, in.AttrOr("autofocus", "none"))
	}
	if p.Doc.Find(`input[name="events"][value="payment.failed"]:checked`).Length() != 1 {
		t.Error("the ticked event was not kept")
	}

	p = c.Submit("/limits/webhooks", "/limits/webhooks", url.Values{"url": {rcv.URL + "/hook"}})
	secret := text(p, `[data-testid="new-endpoint-secret"]`)
	if p.Status != 200 || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("create: %d secret %q", p.Status, secret)
	}
	if p.Doc.Find(`[data-testid="copy-secret"]`).Length() != 1 {
		t.Error("no copy button")
	}
	row := p.Doc.Find(`[data-testid="endpoint-row"]`)
	ep := row.AttrOr("data-endpoint", "")
	if row.Length() != 1 || !strings.Contains(row.Text(), "All events") {
		t.Fatalf("endpoint row: %q", row.Text())
	}
	if p := c.Get("/limits/webhooks"); strings.Contains(p.Body, secret) {
		t.Fatal("the secret is shown again")
	}

	// Send test event: the first answer is a 500, kept in the log with its excerpt.
	if p := c.Submit("/limits/webhooks", "/limits/webhooks/"+ep+"/test", url.Values{}); p.Status != http.StatusSeeOther ||
		!strings.HasPrefix(p.Header.Get("Location"), "/limits/webhooks/"+ep) {
		t.Fatalf("send test: %d %s", p.Status, p.Header.Get("Location"))
	}
	ds := waitDeliveries(t, env, acc.ID, ep, func(ds []webhooks.Delivery) bool { return len(ds) == 1 && ds[0].Attempts == 1 })
	p = c.Get("/limits/webhooks/" + ep)
	if got := text(p, `[data-testid="delivery-status"]`); got != "Retrying" {
		t.Errorf("status %q", got)
	}
	if got := text(p, `[data-testid="attempt-status"]`); got != "HTTP 500" || !strings.Contains(p.Body, "upstream unavailable") {
		t.Errorf("attempt %q", got)
	}
	// Send again: a new delivery of the same event, which succeeds.
	if p := c.Submit("/limits/webhooks/"+ep, "/limits/webhooks/deliveries/"+ds[0].ID+"/resend", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("send again: %d", p.Status)
	}
	ds = waitDeliveries(t, env, acc.ID, ep, func(ds []webhooks.Delivery) bool {
		return len(ds) == 2 && ds[0].Status == webhooks.StatusSucceeded
	})
	if ds[0].EventID != ds[1].EventID || hits.Load() != 2 {
		t.Errorf("resent event %s vs %s, %d requests", ds[0].EventID, ds[1].EventID, hits.Load())
	}
	if got := text(c.Get("/limits/webhooks/"+ep), `[data-testid="delivery-status"]`); got != "Delivered" {
		t.Errorf("newest status %q", got)
	}

	// Another account's user cannot see or touch it.
	if p := nova.Get("/limits/webhooks/" + ep); p.Status != 404 {
		t.Errorf("another account's log: %d", p.Status)
	}
	if p := nova.Submit("/limits/webhooks", "/limits/webhooks/"+ep+"/delete", url.Values{}); p.Status != 404 {
		t.Errorf("another account's delete: %d", p.Status)
	}

	if p := c.Submit("/limits/webhooks", "/limits/webhooks/"+ep+"/delete", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("delete: %d", p.Status)
	}
	if p := c.Get("/limits/webhooks?done=deleted"); p.Doc.Find(`[data-testid="endpoint-row"]`).Length() != 0 {
		t.Error("the endpoint is still listed")
	}
	want := []string{webhooks.AuditEndpointDelete, webhooks.AuditDeliveryResend, webhooks.AuditEndpointTest, webhooks.AuditEndpointCreate}
	if got := auditActions(t, env, acc.ID); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("audit %v, want %v", got, want)
	}
}
