package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"creditline/handlers"
	"creditline/payments"
	"creditline/web"
	"creditline/web/webtest"
	"github.com/labstack/echo/v4"
	"github.com/stripe/stripe-go/v76/webhook"
)

const testWebhookSecret = "whsec_input_tests"

// inputEnv is the real server built with Deps a test chooses, over webtest's database and
// service, with its Echo instance (for e.Routes()) and its log.
type inputEnv struct {
	*webtest.Env
	e   *echo.Echo
	log *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// startInput starts a server; tweak adjusts its Deps, extra adds test-only routes.
func startInput(t *testing.T, tweak func(*web.Deps), extra func(*echo.Echo)) *inputEnv {
	t.Helper()
	env := webtest.Start(t)
	h := handlers.New(handlers.Config{Service: env.Svc,
		Sessions: handlers.NewSessions([]byte("test-secret-test-secret-test-secret!"), false),
		Ready:    func(context.Context) error { return nil }, TestMode: true,
		Webhooks: payments.Webhooks{Secret: testWebhookSecret}})
	buf := &syncBuffer{}
	d := web.Deps{Handlers: h, Logger: slog.New(slog.NewTextHandler(buf, nil)), Metrics: web.NewMetrics()}
	if tweak != nil {
		tweak(&d)
	}
	e := web.New(d)
	if extra != nil {
		extra(e)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	own := *env
	own.URL = srv.URL
	return &inputEnv{Env: &own, e: e, log: buf}
}

// raw sends a request and returns the status, headers and body.
func raw(t *testing.T, method, url, contentType string, body io.Reader, header http.Header) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// signedWebhook posts payload to /webhooks/stripe with a valid signature.
func signedWebhook(t *testing.T, base string, payload []byte) (int, string) {
	t.Helper()
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: testWebhookSecret, Timestamp: time.Now()})
	st, _, body := raw(t, "POST", base+"/webhooks/stripe", "application/json", bytes.NewReader(payload),
		http.Header{"Stripe-Signature": {sp.Header}})
	return st, body
}

func hasField(body, field string) bool {
	return strings.Contains(body, `"fields":{`) && strings.Contains(body, `"`+field+`":`)
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func mustRequest(method, target string) *http.Request {
	return httptest.NewRequest(method, target, nil)
}
