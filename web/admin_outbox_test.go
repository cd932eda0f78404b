package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/web/webtest"
)

// queueMail writes one message to the outbox, as delivery would leave it in status.
func queueMail(t *testing.T, env *webtest.Env, m billing.Mail, status, lastError string) int64 {
	t.Helper()
	ctx := context.Background()
	m.Kind, m.CreatedAt = billing.MailSignupLink, time.Now()
	m.Status = billing.MailQueued
	if status == billing.MailKept {
		m.Status = billing.MailKept
	}
	var id int64
	err := env.Store.InTx(ctx, func(tx billing.Tx) (err error) { id, err = tx.QueueMail(ctx, m); return err })
	if err != nil {
		t.Fatal(err)
	}
	if status == billing.MailKept || status == billing.MailQueued && lastError == "" {
		return id
	}
	if _, err := env.Store.StartMailAttempt(ctx, id); err != nil {
		t.Fatal(err)
	}
	var sentAt *time.Time
	if status == billing.MailSent {
		now := time.Now()
		sentAt = &now
	}
	if err := env.Store.SettleMail(ctx, id, status, lastError, sentAt); err != nil {
		t.Fatal(err)
	}
	return id
}

func adminClient(t *testing.T, env *webtest.Env, email string) *webtest.Client {
	t.Helper()
	if _, err := env.Svc.EnsureAdmin(context.Background(), email, "admin-password"); err != nil {
		t.Fatal(err)
	}
	c := env.Client(t)
	if p := c.Login(email, "admin-password"); p.Status != http.StatusSeeOther {
		t.Fatalf("admin login %d", p.Status)
	}
	return c
}

func outboxRow(p *webtest.Page, id int64) (status, to, subject, errText, body string, ok bool) {
	row := p.Doc.Find(`[data-testid="outbox-row"][data-mail="` + strconv.FormatInt(id, 10) + `"]`)
	if row.Length() != 1 {
		return "", "", "", "", "", false
	}
	text := func(sel string) string { return strings.TrimSpace(row.Find(sel).Text()) }
	return text(`[data-testid="outbox-status"]`), text(`[data-testid="outbox-to"]`), text(`[data-testid="outbox-subject"]`),
		text(`[data-testid="outbox-error"]`), row.Find(`[data-testid="outbox-body"]`).Text(), true
}

func TestAdminOutboxShowsEachMessageWithItsStatus(t *testing.T) {
	env := webtest.Start(t)
	cust := env.Client(t)
	cust.SignUp("Cust", "outbox-cust@example.com", "long-enough-pw")
	adm := adminClient(t, env, "outbox-admin@example.com")

	kept := queueMail(t, env, billing.Mail{To: "kept@example.com", Subject: "Kept one", Body: "Hi <b>there</b>\n<script>alert(1)</script>\nline two"}, billing.MailKept, "")
	queued := queueMail(t, env, billing.Mail{To: "queued@example.com", Subject: "Queued one", Body: "q"}, billing.MailQueued, "")
	retrying := queueMail(t, env, billing.Mail{To: "retry@example.com", Subject: "Retrying one", Body: "r"}, billing.MailQueued, "451 4.3.0 Mailbox busy")
	sent := queueMail(t, env, billing.Mail{To: "sent@example.com", Subject: "Sent one", Body: "s"}, billing.MailSent, "")
	failed := queueMail(t, env, billing.Mail{To: "failed@example.com", Subject: "Failed one", Body: "f"}, billing.MailFailed, "554 5.0.0 No thanks")

	p := adm.Get("/admin/outbox")
	if p.Status != http.StatusOK {
		t.Fatalf("admin /admin/outbox: %d", p.Status)
	}
	for _, tc := range []struct {
		id                             int64
		status, to, subject, errSubstr string
	}{
		{kept, "kept", "kept@example.com", "Kept one", ""},
		{queued, "queued", "queued@example.com", "Queued one", ""},
		{retrying, "queued", "retry@example.com", "Retrying one", "Mailbox busy"},
		{sent, "sent", "sent@example.com", "Sent one", ""},
		{failed, "failed", "failed@example.com", "Failed one", "554 5.0.0 No thanks"},
	} {
		status, to, subject, errText, _, ok := outboxRow(p, tc.id)
		if !ok || status != tc.status || to != tc.to || subject != tc.subject || (tc.errSubstr == "") != (errText == "") || !strings.Contains(errText, tc.errSubstr) {
			t.Errorf("message %d: found %v, status %q, to %q, subject %q, error %q", tc.id, ok, status, to, subject, errText)
		}
	}
	// Newest first: the failed message was written last.
	if first, _ := p.Doc.Find(`[data-testid="outbox-row"]`).First().Attr("data-mail"); first != strconv.FormatInt(failed, 10) {
		t.Errorf("first row is %s, want the newest %d", first, failed)
	}
	// The body is plain text, escaped: its markup shows as text and runs nothing.
	_, _, _, _, body, _ := outboxRow(p, kept)
	if body != "Hi <b>there</b>\n<script>alert(1)</script>\nline two" {
		t.Errorf("kept body %q", body)
	}
	if p.Doc.Find(`[data-testid="outbox-body"] b, [data-testid="outbox-body"] script`).Length() != 0 {
		t.Error("the body's markup became elements")
	}
	// The sign-up mail of the customer is there, with its link.
	if !strings.Contains(p.Doc.Find(`[data-testid="outbox-list"]`).Text(), "/signup/confirm?token=") {
		t.Error("no sign-up link in the outbox")
	}
	if !strings.Contains(p.Doc.Find(`[data-testid="outbox-delivery"]`).Text(), "SMTP_URL is not set") {
		t.Errorf("delivery note %q", p.Doc.Find(`[data-testid="outbox-delivery"]`).Text())
	}

	// Customers and visitors do not see it.
	if p := cust.Get("/admin/outbox"); p.Status != http.StatusNotFound || strings.Contains(p.Body, "kept@example.com") {
		t.Fatalf("customer /admin/outbox: %d", p.Status)
	}
	if p := env.Client(t).Get("/admin/outbox"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous /admin/outbox: %d %s", p.Status, p.Header.Get("Location"))
	}
}

func TestAdminOutboxPagesByKeyset(t *testing.T) {
	env := webtest.Start(t)
	adm := adminClient(t, env, "outbox-pager@example.com")
	var ids []int64
	for i := range 60 {
		ids = append(ids, queueMail(t, env, billing.Mail{To: fmt.Sprintf("p%d@example.com", i), Subject: "Page test", Body: "b"}, billing.MailKept, ""))
	}
	seen := map[int64]bool{}
	var prev int64
	path, pages := "/admin/outbox", 0
	for path != "" {
		p := adm.Get(path)
		if p.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, p.Status)
		}
		pages++
		rows := p.Doc.Find(`[data-testid="outbox-row"]`)
		if rows.Length() == 0 || rows.Length() > 50 {
			t.Fatalf("%s: %d rows", path, rows.Length())
		}
		for i := range rows.Length() {
			v, _ := rows.Eq(i).Attr("data-mail")
			id, _ := strconv.ParseInt(v, 10, 64)
			if seen[id] || (prev != 0 && id >= prev) {
				t.Fatalf("%s: row %d out of order after %d", path, id, prev)
			}
			seen[id], prev = true, id
		}
		path, _ = p.Doc.Find(`[data-testid="outbox-older"]`).Attr("href")
		if path == "" && p.Doc.Find(`[data-testid="outbox-end"]`).Length() != 1 {
			t.Fatalf("last page has neither an older link nor an end")
		}
	}
	for _, id := range ids {
		if !seen[id] {
			t.Fatalf("message %d on no page (%d pages)", id, pages)
		}
	}
	if pages < 2 {
		t.Fatalf("%d pages for 60+ messages", pages)
	}
	// Past the oldest: an empty state with the way back; a bad cursor is refused.
	if p := adm.Get("/admin/outbox?before=1"); p.Status != http.StatusOK || !strings.Contains(p.Doc.Find(`[data-testid="empty"]`).Text(), "No older mail") {
		t.Fatalf("before the first message: %d", p.Status)
	}
	if p := adm.Get("/admin/outbox?before=abc"); p.Status != http.StatusBadRequest {
		t.Fatalf("bad cursor: %d", p.Status)
	}
}

// The HTML part of a message is shown as its source, escaped: its markup (which may carry a
// customer's name) never becomes elements of the admin console.
func TestAdminOutboxShowsTheHTMLPartAsEscapedSource(t *testing.T) {
	env := webtest.Start(t)
	adm := adminClient(t, env, "outbox-html@example.com")
	html := `<p>Hello <b>Eve</b></p><script>alert(1)</script><img src=x onerror="alert(2)">`
	id := queueMail(t, env, billing.Mail{To: "html@example.com", Subject: "With HTML", Body: "Hello Eve", HTML: html}, billing.MailKept, "")
	plain := queueMail(t, env, billing.Mail{To: "plain@example.com", Subject: "Plain only", Body: "Hi"}, billing.MailKept, "")
	p := adm.Get("/admin/outbox")
	row := p.Doc.Find(`[data-testid="outbox-row"][data-mail="` + strconv.FormatInt(id, 10) + `"]`)
	if got := row.Find(`[data-testid="outbox-html-source"]`).Text(); got != html {
		t.Fatalf("HTML source %q, want %q", got, html)
	}
	if n := row.Find(`[data-testid="outbox-html"] b, [data-testid="outbox-html"] script, [data-testid="outbox-html"] img`).Length(); n != 0 {
		t.Fatalf("%d elements came from the mail's HTML", n)
	}
	if n := p.Doc.Find(`[data-testid="outbox-row"][data-mail="` + strconv.FormatInt(plain, 10) + `"] [data-testid="outbox-html"]`).Length(); n != 0 {
		t.Fatal("a plain-text message shows an HTML part")
	}
}
