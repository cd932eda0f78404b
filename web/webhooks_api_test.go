package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"creditline/billing"
)

func TestAPIWebhookEndpoints(t *testing.T) {
	a := newAPIEnv(t)
	acc := a.account("10", "")
	var got atomic.Int32
	var sig atomic.Value
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		sig.Store(r.Header.Get("Creditline-Signature"))
		got.Add(1)
		w.WriteHeader(202)
	}))
	t.Cleanup(rcv.Close)
	base := "/api/v1/accounts/" + acc + "/webhook-endpoints"

	// Errors name the field.
	for body, field := range map[string]string{`{"url": "ftp://x.example/"}`: "url", `{"url": "` + rcv.URL + `", "events": ["nope"]}`: "events",
		`{"events": []}`: "url"} {
		r := a.api.Do("POST", base, body)
		if fs, _ := r.Details()["fields"].(map[string]any); r.Status != 400 || r.Code() != "invalid_request" || fs[field] == nil {
			t.Errorf("%s: %d %s, want 400 naming %s", body, r.Status, r.Raw, field)
		}
	}
	r := a.api.Do("POST", base, map[string]any{"url": rcv.URL + "/hook", "events": []string{"payment.failed"}})
	secret := r.Str("secret")
	id := r.Str("id")
	if r.Status != 201 || !strings.HasPrefix(secret, "whsec_") || !strings.HasPrefix(id, "whe_") || r.Str("url") != rcv.URL+"/hook" {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	l := a.api.Do("GET", base, nil)
	data, _ := l.Body["data"].([]any)
	if l.Status != 200 || len(data) != 1 || strings.Contains(string(l.Raw), secret) || strings.Contains(string(l.Raw), `"secret"`) {
		t.Fatalf("list: %d %s", l.Status, l.Raw)
	}
	if n := a.auditCount(acc); n < 1 {
		t.Errorf("creation not audited")
	}
	// An account key of another account does not see it.
	other := a.account("1", "")
	if r := a.accountKey(other).Do("GET", base+"/"+id+"/deliveries", nil); r.Status != 404 {
		t.Errorf("another account's key: %d %s", r.Status, r.Raw)
	}
	// Its own account key may manage it: a test event through the service, then the log.
	if _, err := a.Env.Hooks.SendTest(t.Context(), acc, "api_key", id, opTest()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	var ds []any
	for time.Now().Before(deadline) {
		d := a.accountKey(acc).Do("GET", base+"/"+id+"/deliveries", nil)
		ds, _ = d.Body["data"].([]any)
		if len(ds) == 1 && ds[0].(map[string]any)["status"] == "succeeded" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(ds) != 1 || got.Load() != 1 {
		t.Fatalf("deliveries %v, received %d", ds, got.Load())
	}
	d := ds[0].(map[string]any)
	atts, _ := d["attempts"].([]any)
	body, _ := d["body"].(map[string]any)
	if d["type"] != "webhook.test" || len(atts) != 1 || atts[0].(map[string]any)["http_status"] != 202.0 || body["account"] != acc {
		t.Errorf("delivery %v", d)
	}
	if s, _ := sig.Load().(string); !strings.HasPrefix(s, "t=") || !strings.Contains(s, ",v1=") {
		t.Errorf("signature header %q", s)
	}
	if r := a.api.Do("DELETE", base+"/"+id, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	if r := a.api.Do("DELETE", base+"/"+id, nil); r.Status != 404 {
		t.Errorf("delete twice: %d %s", r.Status, r.Raw)
	}
	if l := a.api.Do("GET", base, nil); len(l.Body["data"].([]any)) != 0 {
		t.Errorf("after delete: %s", l.Raw)
	}
}

func opTest() billing.Op { return billing.Op{Actor: billing.KeyActor("key_test")} }
