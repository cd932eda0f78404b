package pages_test

import (
	"context"
	"strings"
	"testing"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/PuerkitoBio/goquery"
)

func renderDoc(t *testing.T, v pages.AdminOutbox) *goquery.Document {
	t.Helper()
	var b strings.Builder
	if err := pages.AdminOutboxPage(v).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestAdminOutboxEmptyAndDeliveryNote(t *testing.T) {
	doc := renderDoc(t, pages.AdminOutbox{})
	empty := doc.Find(`[data-testid="empty"]`)
	if !strings.Contains(empty.Text(), "No mail yet") || empty.Find(`a[href="/signup"]`).Length() != 1 {
		t.Errorf("empty state %q", empty.Text())
	}
	if !strings.Contains(doc.Find(`[data-testid="outbox-delivery"]`).Text(), "SMTP_URL is not set") {
		t.Error("no note that mail is only kept")
	}
	doc = renderDoc(t, pages.AdminOutbox{Delivery: true, Page: billing.OutboxPage{Mail: []billing.Mail{{ID: 3, To: "a@example.com", Status: billing.MailSent}}}})
	if note := doc.Find(`[data-testid="outbox-delivery"]`).Text(); !strings.Contains(note, "sent through SMTP") {
		t.Errorf("delivery note %q", note)
	}
	if doc.Find(`[data-testid="empty"]`).Length() != 0 || doc.Find(`[data-testid="outbox-end"]`).Length() != 1 {
		t.Error("one message: want the list and its end, no empty state")
	}
}
