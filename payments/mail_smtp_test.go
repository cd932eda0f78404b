package payments_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/mail"
	"creditline/billing/mail/mailtest"
)

// smtpEnv is env with mail delivered through the real sender to a test SMTP server: the
// sender is built from an SMTP_URL pointing at it, as `portal serve` builds it.
func smtpEnv(t *testing.T) (*env, *mailtest.Server) {
	t.Helper()
	srv := mailtest.Start(t, mailtest.Options{})
	sender, err := mail.New(srv.URL()+"?from=billing@creditline.test", "https://portal.example")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *billing.Options) {
		o.Mailer = sender
		o.Dunning.LinkBase = "https://portal.example"
		o.AlertLinks = billing.AlertLinks{BaseURL: "https://portal.example", Secret: []byte("alert-link-secret-for-tests")}
	})
	return e, srv
}

// receivedBy lists the parsed messages the server took for addr whose subject has subject.
func receivedBy(t *testing.T, srv *mailtest.Server, addr, subject string) []mailtest.Parsed {
	t.Helper()
	var out []mailtest.Parsed
	for _, m := range srv.Received() {
		if len(m.To) != 1 || m.To[0] != addr {
			continue
		}
		if p := m.Parse(t); strings.Contains(p.Header.Get("Subject"), subject) {
			out = append(out, p)
		}
	}
	return out
}

// wantIn fails the test for each want missing from the plain-text or the HTML part.
func wantIn(t *testing.T, p mailtest.Parsed, wants ...string) {
	t.Helper()
	if p.ContentType != "multipart/alternative" || p.HTML == "" {
		t.Fatalf("content type %s, HTML part %d bytes", p.ContentType, len(p.HTML))
	}
	for _, w := range wants {
		if !strings.Contains(p.Text, w) {
			t.Errorf("plain text lacks %q:\n%s", w, p.Text)
		}
		if !strings.Contains(p.HTML, w) {
			t.Errorf("HTML lacks %q:\n%s", w, p.HTML)
		}
	}
}

// A balance crossing its alert threshold is mailed through SMTP once, both parts with the
// balance, the threshold, the top-up link and the rule's unsubscribe link.
func TestAlertMailIsReceivedOverSMTPWithItsFigures(t *testing.T) {
	e, srv := smtpEnv(t)
	ctx := context.Background()
	uid, acc := e.user()
	owner, err := e.st.UserByID(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	had := e.available(acc.ID) // the trial grant
	r, err := e.svc.CreateAlertRule(ctx, acc.ID, billing.AlertRuleInput{Kind: billing.AlertBalanceBelow, Threshold: had.String(),
		Channels: []string{billing.ChannelEmail}}, billing.Op{Actor: billing.UserActor(uid)})
	if err != nil {
		t.Fatal(err)
	}
	e.debit(acc.ID, "12.5")
	e.debit(acc.ID, "1") // still below: no second mail
	e.runJobs()

	got := receivedBy(t, srv, owner.Email, "Balance below")
	if len(got) != 1 {
		t.Fatalf("%d alert mails received, want 1 (all: %d)", len(got), len(srv.Received()))
	}
	left := (had - c("12.5")).String()
	wantIn(t, got[0], left+" credits", had.String()+" credits", "https://portal.example/billing",
		"https://portal.example/alerts/unsubscribe?token="+e.svc.UnsubscribeToken(acc.ID, r.ID))
	if got[0].Header.Get("From") != "<billing@creditline.test>" {
		t.Errorf("From %q", got[0].Header.Get("From"))
	}
}

// A failed subscription payment is mailed through SMTP: both parts name the amount, the plan,
// the invoice, the end of the grace period and link to the Stripe portal to fix the card.
func TestDunningMailIsReceivedOverSMTPWithThePortalLink(t *testing.T) {
	e, srv := smtpEnv(t)
	addr, acc, cus, sub := e.proSubscriber()
	failedAt := e.clock.Now()
	inv := e.u("in_smtp")
	e.send(e.u("evt_fail_smtp"), "invoice.payment_failed", time.Now(), failedInvoice(inv, acc.ID, cus, sub, "pro", 4900))
	e.runJobs()

	got := receivedBy(t, srv, addr, "plan payment failed")
	if len(got) != 1 {
		t.Fatalf("%d dunning mails received, want 1 (all: %d)", len(got), len(srv.Received()))
	}
	ends := failedAt.Add(billing.DefaultGrace).UTC().Format("2 January 2006 at 15:04 UTC")
	wantIn(t, got[0], "$49.00", "Pro", inv, ends, "https://portal.example/billing/portal")
	if strings.Contains(got[0].Text, "unsubscribe") {
		t.Error("a dunning mail carries an alert unsubscribe link")
	}
}
