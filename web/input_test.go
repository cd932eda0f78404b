package web_test

import (
	"bytes"
	"encoding/base64"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// fillParams replaces every :param and * of an Echo route path with val.
func fillParams(path, val string) (string, []string) {
	segs := strings.Split(path, "/")
	var names []string
	for i, s := range segs {
		switch {
		case strings.HasPrefix(s, ":"):
			names, segs[i] = append(names, s[1:]), val
		case s == "*":
			names, segs[i] = append(names, "*"), val
		}
	}
	return strings.Join(segs, "/"), names
}

// probePath puts bad in the parameter named target and ok in every other one, so the answer
// must name exactly that parameter.
func probePath(path, target, bad, ok string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if name, isParam := strings.CutPrefix(s, ":"); isParam || s == "*" {
			if !isParam {
				name = "*"
			}
			segs[i] = ok
			if name == target {
				segs[i] = bad
			}
		}
	}
	return strings.Join(segs, "/")
}

// Every route, as Echo lists them (so a new route is covered without editing this test),
// answers a NUL byte in a path parameter, a query parameter and its body (JSON at any depth,
// form fields, a signed webhook) with a 400 naming the field, never a 500.
func TestNULRefusedOnEveryRoute(t *testing.T) {
	ie := startInput(t, nil, nil)
	key := ie.PlatformKey(t).Key
	browser := ie.Client(t)
	browser.SignUp("Nul Tester", "nul@example.com", "long-enough-pw")
	tok, _ := browser.Get("/api-keys").Doc.Find(`input[name="_csrf"]`).First().Attr("value")
	if tok == "" {
		t.Fatal("no CSRF token")
	}

	acc := ie.PlatformKey(t).Do("POST", "/api/v1/accounts", map[string]any{"external_id": "nul-probe", "name": "Probe"}).Str("id")
	// Routes that never read their body: a NUL there must only not be a 500.
	bodyless := map[string]bool{"POST /api/v1/reservations/:id/release json": true}

	type probe struct {
		name, method, path, ctype string
		body                      []byte
		field                     string
	}
	var probes []probe
	for _, r := range ie.e.Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		_, params := fillParams(r.Path, "")
		okPath, _ := fillParams(r.Path, "x1")
		if strings.HasPrefix(r.Path, "/api/v1/accounts/:id") {
			okPath, _ = fillParams(r.Path, acc) // so the body is read after the account is found
		}
		id := r.Method + " " + r.Path
		for _, p := range params {
			probes = append(probes, probe{name: id + " path " + p, method: r.Method, path: probePath(r.Path, p, "a%00b", "x1"), field: p})
		}
		probes = append(probes, probe{name: id + " query", method: r.Method, path: okPath + "?probe=a%00b", field: "probe"})
		if r.Method != http.MethodPost {
			continue
		}
		switch {
		case strings.HasPrefix(r.Path, "/api/"):
			probes = append(probes, probe{name: id + " json", method: r.Method, path: okPath, ctype: "application/json",
				body: []byte(`{"account":"acc_1","metadata":{"deep":["ok","a\u0000b"]}}`), field: "metadata.deep[1]"})
		case strings.HasPrefix(r.Path, "/webhooks/"):
			probes = append(probes, probe{name: id + " webhook", method: r.Method, path: okPath, ctype: "application/json",
				body: []byte(`{"id":"evt_nul","object":"event","type":"a\u0000b","data":{"object":{}}}`), field: "type"})
		default:
			probes = append(probes, probe{name: id + " form", method: r.Method, path: okPath, ctype: echo.MIMEApplicationForm,
				body: []byte(url.Values{"name": {"a\x00b"}, "_csrf": {tok}}.Encode()), field: "name"})
			var mp bytes.Buffer
			w := multipart.NewWriter(&mp)
			_ = w.WriteField("_csrf", tok)
			_ = w.WriteField("email", "a\x01b@example.com")
			_ = w.Close()
			probes = append(probes, probe{name: id + " multipart", method: r.Method, path: okPath, ctype: w.FormDataContentType(),
				body: mp.Bytes(), field: "email"})
		}
	}
	if len(probes) < 60 {
		t.Fatalf("only %d probes: are the routes registered?", len(probes))
	}
	for _, p := range probes {
		var status int
		var body string
		switch {
		case strings.HasPrefix(p.path, "/webhooks/") && p.body != nil:
			status, body = signedWebhook(t, ie.URL, p.body)
		default:
			h := http.Header{"Authorization": {"Bearer " + key}, "X-Csrf-Token": {tok}}
			req, _ := http.NewRequest(p.method, ie.URL+p.path, bytes.NewReader(p.body))
			req.Header = h
			if p.ctype != "" {
				req.Header.Set("Content-Type", p.ctype)
			}
			resp, err := browser.HTTP.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", p.name, err)
			}
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			resp.Body.Close()
			status, body = resp.StatusCode, b.String()
		}
		if bodyless[p.name] && status < 500 {
			continue
		}
		if status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400\n%.300s", p.name, status, body)
			continue
		}
		if strings.HasPrefix(p.path, "/api/") || strings.HasPrefix(p.path, "/webhooks/") {
			if !strings.Contains(body, `"invalid_request"`) || !hasField(body, p.field) {
				t.Errorf("%s: want invalid_request naming %s: %s", p.name, p.field, body)
			}
		} else if !strings.Contains(body, `data-testid="error-page"`) || !strings.Contains(body, p.field+": ") {
			t.Errorf("%s: want the error page naming %s:\n%.600s", p.name, p.field, body)
		}
	}
}

// The JSON walk names keys, nested paths, invalid UTF-8 and lone surrogates; tab, newline
// and carriage return stay allowed in text.
func TestJSONTextRefusals(t *testing.T) {
	ie := startInput(t, nil, nil)
	api := ie.PlatformKey(t)
	cases := []struct {
		name, body, field string
	}{
		{"control in a top-level field", `{"account":"a\u0001","action":"x","idempotency_key":"k"}`, "account"},
		{"NUL in an attribute", `{"account":"acc_1","action":"x","attributes":{"model":"\u0000"},"idempotency_key":"k"}`, "attributes.model"},
		{"NUL in a metadata key", `{"account":"acc_1","metadata":{"a\u0000":1}}`, "metadata"},
		{"invalid UTF-8", "{\"account\":\"acc_1\",\"metadata\":{\"n\":\"\xff\"}}", "metadata.n"},
		{"lone surrogate", `{"account":"acc_1","metadata":{"n":"\ud800"}}`, "metadata.n"},
		{"batch event", `{"events":[{"account":"acc_1"},{"account":"acc_1","metadata":{"n":"\u001f"}}]}`, "events[1].metadata.n"},
	}
	for _, c := range cases {
		path := "/api/v1/usage"
		if strings.HasPrefix(c.body, `{"events"`) {
			path = "/api/v1/usage/batch"
		}
		r := api.Do("POST", path, c.body)
		if r.Status != 400 || r.Code() != "invalid_request" || !hasField(string(r.Raw), c.field) {
			t.Errorf("%s: %d %s, want 400 naming %s", c.name, r.Status, r.Raw, c.field)
		}
	}
	// Allowed whitespace controls in free text (names are single-line, a stricter rule of their
	// own), and the text "\u0000" written with an escaped backslash.
	acc := api.Do("POST", "/api/v1/accounts", map[string]any{"external_id": "tabs", "name": "Tabs"})
	if acc.Status != 201 {
		t.Fatalf("create account: %d %s", acc.Status, acc.Raw)
	}
	r := api.Do("POST", "/api/v1/usage", `{"account":"`+acc.Str("id")+`","action":"chat.completion","attributes":{"model":"small-open"},`+
		`"idempotency_key":"esc","metadata":{"note":"Tab\tnote\r\nline a\\u0000b"}}`)
	if r.Status != 402 && r.Status != 201 {
		t.Fatalf("tab, newline and an escaped backslash refused: %d %s", r.Status, r.Raw)
	}
	// Invalid UTF-8 in a query parameter.
	q := api.Do("GET", "/api/v1/accounts/"+acc.Str("id")+"/usage?action=%ff", nil)
	if q.Status != 400 || !hasField(string(q.Raw), "action") {
		t.Errorf("invalid UTF-8 in a query: %d %s", q.Status, q.Raw)
	}
}

// 500s found by probing every handler with hostile but well-formed input: a ledger cursor
// past int32, a forged usage cursor carrying NUL or invalid UTF-8, a date filter whose
// end-of-day lands in year 10000.
func TestHostileFiltersAndCursors(t *testing.T) {
	ie := startInput(t, nil, nil)
	api := ie.PlatformKey(t)
	acc := api.Do("POST", "/api/v1/accounts", map[string]any{"external_id": "cursors", "name": "Cursors"}).Str("id")
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	if r := api.Do("GET", "/api/v1/accounts/"+acc+"/ledger?cursor="+b64("4294967296"), nil); r.Status != 200 {
		t.Errorf("ledger cursor past int32: %d %s", r.Status, r.Raw)
	}
	for _, id := range []string{"a\x00b", "\xff", strings.Repeat("i", 65)} {
		r := api.Do("GET", "/api/v1/accounts/"+acc+"/usage?cursor="+b64("2026-01-01T00:00:00Z|"+id), nil)
		if r.Status != 400 || !hasField(string(r.Raw), "cursor") {
			t.Errorf("usage cursor with id %q: %d %s", id, r.Status, r.Raw)
		}
	}
	if r := api.Do("GET", "/api/v1/accounts/"+acc+"/usage?from=0001-01-01&to=9999-12-31", nil); r.Status != 400 || !hasField(string(r.Raw), "from") {
		t.Errorf("API dates out of range: %d %s", r.Status, r.Raw)
	}
	c := ie.Client(t)
	c.SignUp("Cursor", "cursor@example.com", "long-enough-pw")
	for _, q := range []string{"/usage?to=9999-12-31", "/usage?from=0000-01-01&to=9999-12-31", "/usage?cursor=" + b64("2026-01-01T00:00:00Z|a\x00b")} {
		if p := c.Get(q); p.Status != 422 {
			t.Errorf("%s: %d, want the page with the field error", q, p.Status)
		}
	}
	for _, q := range []string{"/usage.csv?to=9999-12-31", "/usage/more?to=9999-12-31"} {
		if p := c.Get(q); p.Status != 400 {
			t.Errorf("%s: %d", q, p.Status)
		}
	}
}
