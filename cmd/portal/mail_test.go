package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"creditline/store/pgtest"
	"github.com/emersion/go-smtp"
)

// inbox is a real SMTP server on a loopback port that keeps what it receives.
type inbox struct {
	mu   sync.Mutex
	msgs []string
}

func (in *inbox) all() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.msgs...)
}

type inboxSession struct{ in *inbox }

func (s inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s inboxSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s inboxSession) Reset()                               {}
func (s inboxSession) Logout() error                        { return nil }
func (s inboxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.in.mu.Lock()
	defer s.in.mu.Unlock()
	s.in.msgs = append(s.in.msgs, string(b))
	return err
}

func startInbox(t *testing.T) (*inbox, string) {
	in := &inbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return inboxSession{in}, nil }))
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { srv.Close() })
	return in, ln.Addr().String()
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// TestServeMailsTheSignupLinkOverSMTP: with SMTP_URL set, serve sends the sign-up mail.
func TestServeMailsTheSignupLinkOverSMTP(t *testing.T) {
	in, addr := startInbox(t)
	e := env(map[string]string{"DATABASE_URL": pgtest.URL(t), "SESSION_SECRET": strings.Repeat("x", 40), "ADDR": "127.0.0.1:0", "PAYMENTS": "test",
		"SMTP_URL": "smtp://" + addr + "?from=billing@creditline.test", "BASE_URL": "https://portal.example"})
	sctx, stop := context.WithCancel(context.Background())
	stdout := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(sctx, []string{"serve"}, e, stdout, io.Discard) }()
	defer func() { stop(); <-done }()
	base := waitListening(t, stdout, done)

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/signup")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on /signup")
	}
	// A forged Host header must not reach the link: links are built from BASE_URL.
	form := url.Values{"_csrf": {string(m[1])}, "name": {"Mia"}, "email": {"mia@example.com"}, "password": {"mia-long-password"}}
	req, _ := http.NewRequest(http.MethodPost, base+"/signup", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Host = "evil.example"
	u, _ := url.Parse(base)
	for _, ck := range jar.Cookies(u) { // the client would look cookies up by the forged host
		req.AddCookie(ck)
	}
	resp, err = (&http.Client{CheckRedirect: c.CheckRedirect}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-up: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(in.all()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	msgs := in.all()
	if len(msgs) != 1 || !strings.Contains(msgs[0], "To: <mia@example.com>") || !strings.Contains(msgs[0], "https://portal.example/signup/confirm?token") || strings.Contains(msgs[0], "evil.example") {
		t.Fatalf("received %d messages:\n%s", len(msgs), strings.Join(msgs, "\n---\n"))
	}
}

func TestServeRefusesABadSMTPSender(t *testing.T) {
	e := env(map[string]string{"DATABASE_URL": pgtest.URL(t), "SESSION_SECRET": strings.Repeat("x", 40), "ADDR": "127.0.0.1:0", "PAYMENTS": "test",
		"SMTP_URL": "smtp://u:hunter2@127.0.0.1:2525?from=nobody"})
	err := run(context.Background(), []string{"serve"}, e, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "SMTP_URL") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("serve with a bad sender: %v", err)
	}
}

// TestServeWiresSecuritySettings: METRICS_TOKEN guards /metrics on the main listener,
// METRICS_ADDR serves it on its own, an https BASE_URL turns on HSTS, and TRUSTED_PROXIES
// decides whether X-Forwarded-For is believed.
func TestServeWiresSecuritySettings(t *testing.T) {
	token := strings.Repeat("m", 24)
	e := env(map[string]string{"DATABASE_URL": pgtest.URL(t), "SESSION_SECRET": strings.Repeat("x", 40), "ADDR": "127.0.0.1:0",
		"PAYMENTS": "test", "BASE_URL": "https://portal.example", "METRICS_TOKEN": token, "METRICS_ADDR": "127.0.0.1:0"})
	sctx, stop := context.WithCancel(context.Background())
	stdout := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(sctx, []string{"serve"}, e, stdout, io.Discard) }()
	defer func() { stop(); <-done }()
	base := waitListening(t, stdout, done)

	get := func(url, bearer string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck
		resp.Body.Close()
		return resp
	}
	if r := get(base+"/metrics", ""); r.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics without the token: %d, want 404", r.StatusCode)
	}
	if r := get(base+"/metrics", token); r.StatusCode != http.StatusOK {
		t.Errorf("/metrics with the token: %d, want 200", r.StatusCode)
	}
	if r := get(base+"/healthz", ""); !strings.HasPrefix(r.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("https BASE_URL but no HSTS header: %q", r.Header.Get("Strict-Transport-Security"))
	}
	m := regexp.MustCompile(`metrics on (http://\S+/metrics)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("serve did not say where METRICS_ADDR listens:\n%s", stdout.String())
	}
	if r := get(m[1], ""); r.StatusCode != http.StatusOK {
		t.Errorf("METRICS_ADDR /metrics: %d, want 200", r.StatusCode)
	}
}
