// Package mailtest is a real SMTP server (go-smtp) for tests: started on a loopback port by the
// test, it keeps every message it accepts, so a test can read what the real sender delivered
// (its plain-text and HTML parts decoded). Test use only.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message as the server took it.
type Message struct {
	From     string
	To       []string
	Data     []byte
	TLS      bool
	AuthUser string
}

// Options configure a server; the zero value is plain text without authentication.
type Options struct {
	StartTLS *tls.Config // offer STARTTLS with this certificate
	Implicit *tls.Config // TLS from the first byte (smtps)
	// User and Pass, when set, are required (AUTH PLAIN) before MAIL FROM.
	User, Pass string
}

// Server is a running SMTP server.
type Server struct {
	Addr      string
	mu        sync.Mutex
	msgs      []Message
	fail      error
	user      string
	pass      string
	authTried int
}

// Start runs a server on 127.0.0.1 until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	ts := &Server{user: o.User, pass: o.Pass}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{ts: ts, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.TLSConfig = o.StartTLS
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.Addr = ln.Addr().String()
	if o.Implicit != nil {
		ln = tls.NewListener(ln, o.Implicit)
	}
	go srv.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { srv.Close() })
	return ts
}

// URL is an SMTP_URL value pointing at the server (plain text: it is on loopback), without
// credentials.
func (ts *Server) URL() string { return "smtp://" + ts.Addr }

// SetFail makes the server refuse every message at DATA with err (nil: accept again).
func (ts *Server) SetFail(err error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.fail = err
}

// Received lists the accepted messages, oldest first.
func (ts *Server) Received() []Message {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]Message(nil), ts.msgs...)
}

// AuthAttempts counts AUTH exchanges, successful or not.
func (ts *Server) AuthAttempts() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.authTried
}

type session struct {
	ts   *Server
	conn *smtp.Conn
	cur  Message
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		s.ts.mu.Lock()
		defer s.ts.mu.Unlock()
		s.ts.authTried++
		if user != s.ts.user || pass != s.ts.pass {
			return errors.New("bad credentials")
		}
		s.cur.AuthUser = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.ts.user != "" && s.cur.AuthUser == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	s.cur.From = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.ts.mu.Lock()
	defer s.ts.mu.Unlock()
	if s.ts.fail != nil {
		return s.ts.fail
	}
	_, s.cur.TLS = s.conn.TLSConnectionState()
	s.cur.Data = b
	s.ts.msgs = append(s.ts.msgs, s.cur)
	s.cur = Message{AuthUser: s.cur.AuthUser}
	return nil
}

func (s *session) Reset()        { s.cur = Message{AuthUser: s.cur.AuthUser} }
func (s *session) Logout() error { return nil }

// Parsed is a received message's header and its decoded bodies: Text is the text/plain part
// (or the whole body of a single-part message), HTML the text/html part ("" when none).
type Parsed struct {
	Header mail.Header
	Text   string
	HTML   string
	// ContentType is the top-level media type (multipart/alternative for text with HTML).
	ContentType string
}

// Parse reads the message; it fails the test when the message is malformed.
func (m Message) Parse(t testing.TB) Parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("received message: %v\n%s", err, m.Data)
	}
	p := Parsed{Header: msg.Header}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		mt = "text/plain"
	}
	p.ContentType = mt
	if !strings.HasPrefix(mt, "multipart/") {
		p.Text = decode(t, msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
		return p
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return p
		}
		if err != nil {
			t.Fatalf("multipart body: %v\n%s", err, m.Data)
		}
		pt, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		// NextPart already undoes quoted-printable; base64 is left to decode.
		body := decode(t, part.Header.Get("Content-Transfer-Encoding"), part)
		switch pt {
		case "text/plain":
			p.Text = body
		case "text/html":
			p.HTML = body
		}
	}
}

func decode(t testing.TB, cte string, r io.Reader) string {
	t.Helper()
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("message body: %v", err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n") // lines end in CRLF on the wire
}

// TestCA is a self-signed certificate for the given names (server side) and a client
// configuration that trusts it.
func TestCA(t testing.TB, names ...string) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: pool, ServerName: names[0], MinVersion: tls.VersionTLS12}
	return server, client
}
