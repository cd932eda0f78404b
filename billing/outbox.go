package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Mail is one message of the outbox. Without a Mailer (no SMTP_URL) it stays there, kept for
// the admin console; with one, a job delivers it and records the outcome on the row.
type Mail struct {
	ID      int64  `db:"id"`
	Kind    string `db:"kind"`
	To      string `db:"to_addr"`
	Subject string `db:"subject"`
	Body    string `db:"body"`
	// HTML is the same message as an HTML page ("" for mail written before it had one); the
	// admin console shows it only as escaped text.
	HTML      string     `db:"html_body"`
	CreatedAt time.Time  `db:"created_at"`
	SentAt    *time.Time `db:"sent_at"`
	Status    string     `db:"status"`
	Attempts  int        `db:"attempts"`
	LastError string     `db:"last_error"`
}

// Mail kinds.
const (
	MailSignupLink    = "signup_link"
	MailSignupAttempt = "signup_attempt"
)

// Mail statuses: kept in the outbox (no SMTP), queued for SMTP (maybe after a failed attempt,
// see LastError), sent, or failed for good after MailMaxAttempts.
const (
	MailKept   = "kept"
	MailQueued = "queued"
	MailSent   = "sent"
	MailFailed = "failed"
)

// JobSendMail delivers one queued outbox message through the Mailer.
const JobSendMail = "mail.send"

// MailMaxAttempts bounds delivery: with Backoff the last try comes about four hours after
// the first.
const MailMaxAttempts = 16

// mailErrorMax bounds the error kept on an outbox row.
const mailErrorMax = 500

// Message is what a Mailer sends: a plain-text body and, when HTML is set, the same content as
// an HTML alternative. ID and CreatedAt are the outbox row's, the same on every retry, so an
// adapter can give the mail a stable Message-ID.
type Message struct {
	ID        int64
	To        string
	Subject   string
	Body      string
	HTML      string
	CreatedAt time.Time
}

// Mailer sends mail; billing/mail implements it over SMTP. An error means the message may
// not have been accepted, and it is retried.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// OutboxStore reads the outbox and records delivery attempts.
type OutboxStore interface {
	// Outbox lists mail newest first: at most limit messages with ids below before (0: from
	// the newest).
	Outbox(ctx context.Context, before int64, limit int) ([]Mail, error)
	// StartMailAttempt counts one delivery attempt of a queued message and returns it
	// (Attempts includes this one); ENotFound when the message is unknown or no longer queued.
	StartMailAttempt(ctx context.Context, id int64) (Mail, error)
	// SettleMail records the outcome of an attempt on a queued message: status sent (sentAt
	// set), queued or failed (with lastError), or kept. A message no longer queued is left alone.
	SettleMail(ctx context.Context, id int64, status, lastError string, sentAt *time.Time) error
}

// MailDelivery says whether messages are sent (a Mailer is set) or only kept in the outbox.
func (s *Service) MailDelivery() bool { return s.mailer != nil }

type sendMailJob struct {
	ID int64 `json:"id"`
}

// queueMail writes m to the outbox inside tx and, when mail is delivered, enqueues its send
// job in the same transaction: the message and its job commit together or not at all.
func (s *Service) queueMail(ctx context.Context, tx Tx, m Mail) error {
	m.Status = MailKept
	if s.mailer != nil {
		m.Status = MailQueued
	}
	id, err := tx.QueueMail(ctx, m)
	if err != nil || s.mailer == nil {
		return err
	}
	j := NewJob(JobSendMail, sendMailJob{ID: id}, m.CreatedAt, "mail:"+strconv.FormatInt(id, 10))
	j.MaxAttempts = MailMaxAttempts
	return tx.Enqueue(ctx, j)
}

// handleSendMail delivers one message. Idempotent: a message no longer queued (sent, failed,
// kept) is not touched, so a repeated job never sends a sent message again.
func (s *Service) handleSendMail(ctx context.Context, payload json.RawMessage) error {
	var p sendMailJob
	if err := json.Unmarshal(payload, &p); err != nil {
		return fmt.Errorf("mail job payload: %w", err)
	}
	m, err := s.store.StartMailAttempt(ctx, p.ID)
	if ErrorCode(err) == ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if s.mailer == nil { // SMTP was turned off after the message was queued: it waits here
		return s.store.SettleMail(ctx, m.ID, MailKept, "", nil)
	}
	sendErr := s.mailer.Send(ctx, Message{ID: m.ID, To: m.To, Subject: m.Subject, Body: m.Body, HTML: m.HTML, CreatedAt: m.CreatedAt})
	if sendErr == nil {
		now := s.Now()
		return s.store.SettleMail(ctx, m.ID, MailSent, "", &now)
	}
	status := MailQueued
	if m.Attempts >= MailMaxAttempts {
		status = MailFailed
	}
	if err := s.store.SettleMail(ctx, m.ID, status, mailErrorText(sendErr), nil); err != nil {
		return err
	}
	return fmt.Errorf("send mail %d (attempt %d): %w", m.ID, m.Attempts, sendErr)
}

// mailErrorText is an error as kept on the row: valid UTF-8, one line, bounded.
func mailErrorText(err error) string {
	t := strings.Join(strings.Fields(strings.ToValidUTF8(err.Error(), "?")), " ")
	for len(t) > mailErrorMax {
		_, n := utf8.DecodeLastRuneInString(t)
		t = t[:len(t)-n]
	}
	return t
}

// Outbox lists the newest mail first (at most limit).
func (s *Service) Outbox(ctx context.Context, limit int) ([]Mail, error) {
	return s.store.Outbox(ctx, 0, min(max(limit, 1), 500))
}

// OutboxPage is one page of the outbox, newest first.
type OutboxPage struct {
	Mail []Mail
	// Older is the id to pass as before for the next page; 0 when this page is the last.
	Older int64
}

// OutboxListing returns up to limit messages with ids below before (0: the newest).
func (s *Service) OutboxListing(ctx context.Context, before int64, limit int) (OutboxPage, error) {
	limit = min(max(limit, 1), 500)
	mail, err := s.store.Outbox(ctx, max(before, 0), limit+1)
	if err != nil {
		return OutboxPage{}, err
	}
	var p OutboxPage
	if len(mail) > limit {
		mail = mail[:limit]
		p.Older = mail[limit-1].ID
	}
	p.Mail = mail
	return p, nil
}
