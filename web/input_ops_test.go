package web_test

import (
	"errors"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"creditline/web"
	"github.com/labstack/echo/v4"
)

// The access log and /metrics record the status the client received, also when the error
// handler chose it (a 429 rate limit, a 500 from an unexpected error or a panic).
func TestLogAndMetricsRecordFinalStatus(t *testing.T) {
	ie := startInput(t, func(d *web.Deps) { d.MetricsToken = "m-token" }, func(e *echo.Echo) {
		e.GET("/test/boom", func(echo.Context) error { return errors.New("boom") })
		e.GET("/test/panic", func(echo.Context) error { panic("kaboom") })
	})
	api := ie.PlatformKey(t)
	acc := api.Do("POST", "/api/v1/accounts", map[string]any{"external_id": "status", "name": "Status"}).Str("id")
	var last int
	for i := 0; i < 61 && last != 429; i++ { // free plan: 60 per minute
		last = api.Do("GET", "/api/v1/accounts/"+acc+"/balance", nil).Status
	}
	if last != 429 {
		t.Fatalf("no 429: %d", last)
	}
	for _, p := range []string{"/test/boom", "/test/panic"} {
		if st, _, _ := raw(t, "GET", ie.URL+p, "", nil, nil); st != 500 {
			t.Fatalf("%s: %d", p, st)
		}
	}
	log := ie.log.String()
	for _, want := range []string{`uri=/api/v1/accounts/` + acc + `/balance status=429`, `uri=/test/boom status=500`, `uri=/test/panic status=500`} {
		if !strings.Contains(log, want) {
			t.Errorf("log has no %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "uri=/test/boom status=200") || regexp.MustCompile(`/balance status=200[^\n]*\n[^\n]*$`).MatchString(log) {
		t.Errorf("a refused request logged as 200:\n%s", log)
	}
	_, _, m := raw(t, "GET", ie.URL+"/metrics", "", nil, http.Header{"Authorization": {"Bearer m-token"}})
	for _, want := range []string{
		`http_request_duration_seconds_count{method="GET",route="/api/v1/accounts/:id/balance",status="429"} 1`,
		`http_request_duration_seconds_count{method="GET",route="/test/boom",status="500"} 1`,
		`http_request_duration_seconds_count{method="GET",route="/test/panic",status="500"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics have no %s", want)
		}
	}
	if strings.Contains(m, `route="/test/boom",status="200"`) {
		t.Error("metrics count the 500 as 200")
	}
}

func TestMetricsToken(t *testing.T) {
	ie := startInput(t, func(d *web.Deps) { d.MetricsToken = "s3cret" }, nil)
	for name, h := range map[string]http.Header{
		"none":  nil,
		"wrong": {"Authorization": {"Bearer s3cres"}},
		"basic": {"Authorization": {"Basic s3cret"}},
	} {
		if st, _, body := raw(t, "GET", ie.URL+"/metrics", "", nil, h); st != 404 || strings.Contains(body, "go_goroutines") {
			t.Errorf("%s token: %d", name, st)
		}
	}
	st, _, body := raw(t, "GET", ie.URL+"/metrics", "", nil, http.Header{"Authorization": {"Bearer s3cret"}})
	if st != 200 || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("right token: %d", st)
	}
	// Unset: 404 on the main server; HTTPHandler is what a METRICS_ADDR listener serves.
	none := startInput(t, nil, nil)
	if st, _, _ := raw(t, "GET", none.URL+"/metrics", "", nil, http.Header{"Authorization": {"Bearer "}}); st != 404 {
		t.Errorf("no token configured: %d", st)
	}
	m := web.NewMetrics()
	rec := newRecorder()
	m.HTTPHandler().ServeHTTP(rec, mustRequest("GET", "/metrics"))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "go_goroutines") {
		t.Errorf("HTTPHandler: %d", rec.Code)
	}
}

func TestSecurityHeaders(t *testing.T) {
	plain := startInput(t, nil, nil)
	tls := startInput(t, func(d *web.Deps) { d.HSTS = true }, nil)
	api := plain.PlatformKey(t)
	acc := api.Do("POST", "/api/v1/accounts", map[string]any{"external_id": "hdr", "name": "Headers"})
	if acc.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("API answer with account data: Cache-Control %q", acc.Header.Get("Cache-Control"))
	}
	c := plain.Client(t)
	c.SignUp("Hdr", "hdr@example.com", "long-enough-pw")
	for _, p := range []string{"/", "/usage", "/billing", "/api-keys", "/login", "/no-such-page"} {
		pg := c.Get(p)
		if pg.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", p, pg.Header.Get("Cache-Control"))
		}
		csp := pg.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "form-action 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if pg.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over http", p)
		}
	}
	_, h, _ := raw(t, "GET", tls.URL+"/login", "", nil, nil)
	if h.Get("Strict-Transport-Security") != "max-age=63072000; includeSubDomains" {
		t.Errorf("HSTS: %q", h.Get("Strict-Transport-Security"))
	}
	css := c.Get("/").Doc.Find(`link[rel="stylesheet"]`).AttrOr("href", "")
	if _, h, _ := raw(t, "GET", plain.URL+css, "", nil, nil); css == "" || !strings.Contains(h.Get("Cache-Control"), "immutable") {
		t.Errorf("static %q: Cache-Control %q", css, h.Get("Cache-Control"))
	}
}

// X-Forwarded-For counts only from a trusted proxy; nothing is trusted by default, not even
// loopback.
func TestTrustedProxies(t *testing.T) {
	xff := http.Header{"X-Forwarded-For": {"203.0.113.9"}}
	direct := startInput(t, nil, nil)
	other := startInput(t, func(d *web.Deps) { d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} }, nil)
	local := startInput(t, func(d *web.Deps) { d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} }, nil)
	for name, ie := range map[string]*inputEnv{"none": direct, "10/8": other, "loopback": local} {
		raw(t, "GET", ie.URL+"/healthz", "", nil, xff)
		got := regexp.MustCompile(`uri=/healthz .* ip=(\S+)`).FindStringSubmatch(ie.log.String())
		want := "127.0.0.1"
		if name == "loopback" {
			want = "203.0.113.9"
		}
		if got == nil || got[1] != want {
			t.Errorf("trusted %s: client ip %v, want %s", name, got, want)
		}
	}
}

// Failed API keys are throttled per client IP: after 20 in a minute every request from that
// IP is a 429, valid keys included; another IP is unaffected.
func TestInvalidKeysThrottled(t *testing.T) {
	ie := startInput(t, func(d *web.Deps) { d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} }, nil)
	api := ie.PlatformKey(t)
	from := func(ip, key string) (int, http.Header, string) {
		return raw(t, "GET", ie.URL+"/api/v1/actions", "", nil, http.Header{"X-Forwarded-For": {ip}, "Authorization": {"Bearer " + key}})
	}
	for i := 0; i < 20; i++ {
		if st, _, _ := from("198.51.100.7", "sk_guess"); st != 401 {
			t.Fatalf("guess %d: %d", i, st)
		}
	}
	st, h, body := from("198.51.100.7", "sk_guess")
	if st != 429 || !strings.Contains(body, `"rate_limited"`) || h.Get("Retry-After") == "" {
		t.Fatalf("21st guess: %d %s Retry-After=%q", st, body, h.Get("Retry-After"))
	}
	if st, _, _ := from("198.51.100.7", api.Key); st != 429 {
		t.Errorf("valid key from the flooding IP: %d", st)
	}
	if st, _, _ := from("198.51.100.8", api.Key); st != 200 {
		t.Errorf("valid key from another IP: %d", st)
	}
}
