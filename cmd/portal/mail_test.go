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
	e := env(map[string]string{"DATABASE_URL": pgtest.URL(t), "SESSION_SECRET": strings.Repeat("x", 40), "ADDR": "127.0.0.1:0",
		"SMTP_URL": "smtp://" + addr + "?from=billing@creditline.test"})
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
	resp, err = c.PostForm(base+"/signup", url.Values{"_csrf": {string(m[1])}, "name": {"Mia"}, "email": {"mia@example.com"}, "password": {"mia-long-password"}})
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
	if len(msgs) != 1 || !strings.Contains(msgs[0], "To: <mia@example.com>") || !strings.Contains(msgs[0], "/signup/confirm?token") {
		t.Fatalf("received %d messages:\n%s", len(msgs), strings.Join(msgs, "\n---\n"))
	}
}

func TestServeRefusesABadSMTPSender(t *testing.T) {
	e := env(map[string]string{"DATABASE_URL": pgtest.URL(t), "SESSION_SECRET": strings.Repeat("x", 40), "ADDR": "127.0.0.1:0",
		"SMTP_URL": "smtp://u:hunter2@127.0.0.1:2525?from=nobody"})
	err := run(context.Background(), []string{"serve"}, e, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "SMTP_URL") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("serve with a bad sender: %v", err)
	}
}
