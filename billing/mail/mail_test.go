package mail

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/mail/mailtest"
)

var testMsg = billing.Message{ID: 7, To: "ann@example.com", Subject: "Finish creating your account",
	Body: "Hello Ann,\n\nfollow this link: http://portal.test/signup/confirm?token=abc_DEF-123\n", CreatedAt: time.Date(2026, 3, 5, 14, 3, 0, 0, time.UTC)}

func mustNew(t *testing.T, rawURL string) *SMTP {
	t.Helper()
	s, err := New(rawURL, "https://portal.example.com")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestSendUpgradesWithStartTLSAndAuthenticates(t *testing.T) {
	srvTLS, cliTLS := mailtest.TestCA(t, "mail.example.com")
	ts := mailtest.Start(t, mailtest.Options{StartTLS: srvTLS, User: "ann", Pass: "pa:ss/word"})
	s := mustNew(t, "smtp://ann:pa%3Ass%2Fword@mail.example.com?from=Billing%20%3Cbilling@example.com%3E")
	s.tlsConfig, s.dial = cliTLS, redirect(ts.Addr)
	if err := s.Send(context.Background(), testMsg); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := ts.Received()
	if len(got) != 1 {
		t.Fatalf("received %d messages", len(got))
	}
	r := got[0]
	if !r.TLS || r.AuthUser != "ann" || r.From != "billing@example.com" || len(r.To) != 1 || r.To[0] != "ann@example.com" {
		t.Fatalf("envelope %+v", r)
	}
	pm := r.Parse(t)
	h, body := pm.Header, pm.Text
	if h.Get("Subject") != testMsg.Subject || !strings.Contains(h.Get("From"), "<billing@example.com>") || h.Get("To") != "<ann@example.com>" {
		t.Errorf("headers %v", h)
	}
	if h.Get("Message-Id") != "<outbox.7.1772719380000000@example.com>" {
		t.Errorf("Message-ID %q", h.Get("Message-Id"))
	}
	if !strings.Contains(body, "http://portal.test/signup/confirm?token=abc_DEF-123") {
		t.Errorf("body %q", body)
	}
}

func TestPlainTextOnlyToLoopback(t *testing.T) {
	ts := mailtest.Start(t, mailtest.Options{User: "ann", Pass: "secret-pw"}) // no STARTTLS offered
	// A remote name: refused before any password is sent.
	remote := mustNew(t, "smtp://ann:secret-pw@mail.example.com")
	remote.dial = redirect(ts.Addr)
	err := remote.Send(context.Background(), testMsg)
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("plain text to a remote server: %v", err)
	}
	if strings.Contains(err.Error(), "secret-pw") {
		t.Fatalf("error shows the password: %v", err)
	}
	if len(ts.Received()) != 0 || ts.AuthAttempts() != 0 {
		t.Fatalf("remote plain text: %d messages, %d AUTH attempts", len(ts.Received()), ts.AuthAttempts())
	}
	// This machine (a local relay or catcher): plain text is fine.
	_, port, _ := net.SplitHostPort(ts.Addr)
	local := mustNew(t, "smtp://ann:secret-pw@127.0.0.1:"+port)
	if err := local.Send(context.Background(), testMsg); err != nil {
		t.Fatalf("plain text to loopback: %v", err)
	}
	if got := ts.Received(); len(got) != 1 || got[0].TLS || got[0].AuthUser != "ann" {
		t.Fatalf("loopback delivery %+v", got)
	}
}

func TestSMTPSSpeaksTLSFromTheStart(t *testing.T) {
	srvTLS, cliTLS := mailtest.TestCA(t, "127.0.0.1")
	ts := mailtest.Start(t, mailtest.Options{Implicit: srvTLS})
	_, port, _ := net.SplitHostPort(ts.Addr)
	s := mustNew(t, "smtps://127.0.0.1:"+port)
	s.tlsConfig = cliTLS
	if err := s.Send(context.Background(), testMsg); err != nil {
		t.Fatalf("send: %v", err)
	}
	if got := ts.Received(); len(got) != 1 || !got[0].TLS {
		t.Fatalf("smtps delivery %+v", got)
	}
	// An untrusted certificate is refused.
	s.tlsConfig = &tls.Config{ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	if err := s.Send(context.Background(), testMsg); err == nil {
		t.Fatal("sent to a server with an untrusted certificate")
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		url, server, from string
		implicit          bool
	}{
		{"smtps://u:p@mail.example.com", "mail.example.com:465", `"Creditline" <no-reply@portal.example.com>`, true},
		{"smtp://mail.example.com", "mail.example.com:587", `"Creditline" <no-reply@portal.example.com>`, false},
		{"smtp://localhost:1025?from=ops@example.org", "localhost:1025", "<ops@example.org>", false},
	} {
		s := mustNew(t, tc.url)
		if s.Server() != tc.server || s.from != tc.from || s.implicit != tc.implicit {
			t.Errorf("%s: server %s from %s implicit %v", tc.url, s.Server(), s.from, s.implicit)
		}
	}
	for _, bad := range []string{"smtp://u:hunter2@", "http://u:hunter2@mail.example.com", "smtp://u:hunter2@mail.example.com:99999", "smtp://u:hunter2@mail.example.com?from=not-an-address", "smtp://u:hunter2@mail example.com"} {
		_, err := New(bad, "http://localhost:8080")
		if err == nil || !strings.Contains(err.Error(), "SMTP_URL") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("New(%q): %v", bad, err)
		}
	}
}

func TestSendCarriesTheHTMLAlternative(t *testing.T) {
	ts := mailtest.Start(t, mailtest.Options{})
	s := mustNew(t, ts.URL())
	m := testMsg
	m.HTML = `<p>Hello Ann, <a href="http://portal.test/signup/confirm?token=abc_DEF-123">finish</a> — ünïcode</p>`
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := ts.Received()
	if len(got) != 1 {
		t.Fatalf("received %d messages", len(got))
	}
	p := got[0].Parse(t)
	if p.ContentType != "multipart/alternative" || p.Text != m.Body || p.HTML != m.HTML {
		t.Fatalf("content type %s\ntext %q\nhtml %q", p.ContentType, p.Text, p.HTML)
	}
	// Without HTML the message stays a single text/plain part.
	if err := s.Send(context.Background(), testMsg); err != nil {
		t.Fatal(err)
	}
	if p := ts.Received()[1].Parse(t); p.ContentType != "text/plain" || p.HTML != "" || p.Text != testMsg.Body {
		t.Fatalf("plain message: %s %q", p.ContentType, p.Text)
	}
}
