// Package mail delivers the outbox's messages over SMTP (go-mail). It implements
// billing.Mailer; billing never imports it.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"creditline/billing"
	gomail "github.com/wneessen/go-mail"
)

// SMTP sends each message on a connection of its own. Its fields hold the password: never
// log or print an SMTP value.
type SMTP struct {
	host     string
	port     int
	implicit bool // smtps: TLS from the first byte
	policy   gomail.TLSPolicy
	user     string
	pass     string
	from     string // address, maybe with a display name
	domain   string // of the sender: the right side of Message-IDs
	timeout  time.Duration
	// tlsConfig and dial are for tests (a private CA, a name that is not in DNS).
	tlsConfig *tls.Config
	dial      gomail.DialContextFunc
}

var _ billing.Mailer = (*SMTP)(nil)

// New reads SMTP_URL: smtps://user:pass@host[:465] speaks TLS from the start;
// smtp://user:pass@host[:587] upgrades with STARTTLS, and sends in plain text only to a
// loopback host (a local relay or mail catcher) that does not offer it. The sender is the
// URL's from parameter (e.g. ?from=Billing%20%3Cbilling@example.com%3E), by default
// no-reply@ the host of baseURL. Errors name SMTP_URL and never repeat its value.
func New(rawURL, baseURL string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return nil, errors.New("SMTP_URL is not a valid URL (e.g. smtps://user:password@mail.example.com)")
	}
	s := &SMTP{host: u.Hostname(), timeout: 30 * time.Second}
	switch u.Scheme {
	case "smtps":
		s.implicit, s.port, s.policy = true, 465, gomail.TLSMandatory
	case "smtp":
		s.port, s.policy = 587, gomail.TLSMandatory
		if isLoopback(s.host) {
			s.policy = gomail.TLSOpportunistic
		}
	default:
		return nil, errors.New("SMTP_URL must use smtp:// or smtps://")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, errors.New("SMTP_URL has an invalid port")
		}
		s.port = n
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	from := u.Query().Get("from")
	if from == "" {
		host := "localhost"
		if b, err := url.Parse(baseURL); err == nil && b.Hostname() != "" {
			host = b.Hostname()
		}
		from = "Creditline <no-reply@" + host + ">"
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, errors.New("SMTP_URL's from parameter is not a mail address")
	}
	s.from = addr.String()
	s.domain = addr.Address[strings.LastIndexByte(addr.Address, '@')+1:]
	return s, nil
}

// isLoopback says plain text stays on this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Server is host:port, safe to log.
func (s *SMTP) Server() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// Send delivers one message: plain text, with the HTML alternative when it has one
// (multipart/alternative, HTML last so clients that can show it prefer it). Its Message-ID comes from the outbox row, so the
// rare resend after a crash between acceptance and bookkeeping is recognisable downstream.
func (s *SMTP) Send(ctx context.Context, m billing.Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("mail: sender: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("mail: recipient: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(fmt.Sprintf("outbox.%d.%d@%s", m.ID, m.CreatedAt.UnixMicro(), s.domain))
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	c, err := gomail.NewClient(s.host, s.options()...)
	if err != nil {
		return fmt.Errorf("mail: client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: send through %s: %w", s.Server(), err)
	}
	return nil
}

func (s *SMTP) options() []gomail.Option {
	tc := s.tlsConfig
	if tc == nil {
		tc = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	}
	opts := []gomail.Option{gomail.WithPort(s.port), gomail.WithTimeout(s.timeout), gomail.WithTLSPolicy(s.policy), gomail.WithTLSConfig(tc)}
	if s.implicit {
		opts = append(opts, gomail.WithSSL())
	}
	if s.user != "" {
		// PLAIN and LOGIN refuse an unencrypted connection unless the server is this machine.
		opts = append(opts, gomail.WithUsername(s.user), gomail.WithPassword(s.pass), gomail.WithOpportunisticSMTPAuth(
			gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthCramMD5, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	if s.dial != nil {
		opts = append(opts, gomail.WithDialContextFunc(s.dial))
	}
	return opts
}
