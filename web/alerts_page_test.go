package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/web/webtest"
)

func alertAudit(t *testing.T, env *webtest.Env, accountID string) []billing.AuditEntry {
	t.Helper()
	p, err := env.Svc.AuditLog(context.Background(), billing.AuditFilter{AccountID: accountID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []billing.AuditEntry
	for _, e := range p.Entries {
		if strings.HasPrefix(e.Action, "alert_rule.") {
			out = append(out, e)
		}
	}
	return out
}

// TestAlertsPage: the rules with their channels; a bad threshold is a 422 with the error
// beside the field (focused); add, edit (turn off) and delete, each audited as the customer.
func TestAlertsPage(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	demo := seedDemo(t, env)
	u, err := env.Store.UserByEmail(ctx, "demo@creditline.test")
	if err != nil {
		t.Fatal(err)
	}
	base := len(alertAudit(t, env, demo.ID))
	c := signedIn(t, env, "demo@creditline.test")
	p := c.Get("/limits/alerts")
	if rules, _ := env.Svc.AlertRules(ctx, demo.ID); p.Status != http.StatusOK || len(rules) < 6 || p.Doc.Find(`[data-testid="alert-rule"]`).Length() != len(rules) {
		t.Fatalf("page: %d, %d rules", p.Status, p.Doc.Find(`[data-testid="alert-rule"]`).Length())
	}
	p = c.Submit("/limits/alerts", "/limits/alerts", url.Values{"kind": {"balance_below"}, "threshold": {"lots"}, "channels": {"email"}})
	if p.Status != http.StatusUnprocessableEntity || p.Doc.Find(`[data-testid="error-threshold"]`).Length() != 1 {
		t.Fatalf("bad threshold: %d %s", p.Status, p.Doc.Find(`[data-testid="add-alert-form"]`).Text())
	}
	if _, ok := p.Doc.Find(`#alert-threshold`).Attr("autofocus"); !ok {
		t.Fatalf("the field in error is not focused")
	}
	if n := len(alertAudit(t, env, demo.ID)); n != base {
		t.Fatalf("a refused rule was audited (%d)", n)
	}
	p = c.Submit("/limits/alerts", "/limits/alerts", url.Values{"kind": {"balance_below"}, "threshold": {"25"}, "channels": {"in_app", "webhook"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("add: %d", p.Status)
	}
	p = c.Get("/limits/alerts?done=added")
	row := p.Doc.Find(`[data-testid="alert-rule"]`).Last()
	id, _ := row.Attr("data-rule")
	if !strings.Contains(row.Text(), "below 25 credits") || !strings.Contains(row.Text(), "In-app, Webhook") {
		t.Fatalf("new rule row: %q", row.Text())
	}
	if p := c.Submit("/limits/alerts", "/limits/alerts/"+id, url.Values{"threshold": {"30"}, "channels": {"in_app"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d", p.Status)
	}
	r, err := env.Store.AlertRuleByID(ctx, demo.ID, id)
	if err != nil || r.Enabled || r.Threshold != int64(30*billing.Credit) || len(r.Channels) != 1 {
		t.Fatalf("after edit: %+v %v", r, err)
	}
	if p := c.Submit("/limits/alerts", "/limits/alerts/"+id+"/delete", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("delete: %d", p.Status)
	}
	es := alertAudit(t, env, demo.ID)
	if len(es) != base+3 {
		t.Fatalf("audit: %+v", es)
	}
	for _, e := range es[:3] {
		if e.Actor() != billing.UserActor(u.ID) {
			t.Fatalf("audit actor %+v, want the customer", e.Actor())
		}
	}
	// Another account's rule id is a 404.
	other := accountOf(t, env, "nova@creditline.test")
	rules, _ := env.Svc.AlertRules(ctx, other.ID)
	if p := c.Submit("/limits/alerts", "/limits/alerts/"+rules[0].ID+"/delete", url.Values{}); p.Status != http.StatusNotFound {
		t.Fatalf("another account's rule: %d", p.Status)
	}
}

var unsubLink = regexp.MustCompile(`https?://\S+/alerts/unsubscribe\?token=(\S+)`)

// TestAlertEmailAndUnsubscribe: a crossing mails the customer once (what happened, the figures,
// a link to top up, an unsubscribe link); the link needs no sign-in, shows a confirmation,
// and its POST turns off that rule's email only, audited as the customer; a forged token is a 404.
func TestAlertEmailAndUnsubscribe(t *testing.T) {
	env := webtest.Start(t, func(o *billing.Options) {
		o.AlertLinks = billing.AlertLinks{BaseURL: "http://portal.test", Secret: []byte("a test secret of at least 32 bytes!!")}
	})
	ctx := context.Background()
	demo := seedDemo(t, env)
	u, _ := env.Store.UserByEmail(ctx, "demo@creditline.test")
	base := len(alertAudit(t, env, demo.ID))
	r, err := env.Svc.CreateAlertRule(ctx, demo.ID, billing.AlertRuleInput{Kind: billing.AlertBalanceBelow, Threshold: "1000000",
		Channels: []string{billing.ChannelInApp, billing.ChannelEmail}}, billing.Op{Actor: billing.UserActor(u.ID)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := env.Svc.Debit(ctx, billing.DebitInput{AccountID: demo.ID, Amount: billing.MustCredits("0.001"), IdempotencyKey: "alert-mail-" + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	// Other tests' debits may make the demo's default rules mail too: count this rule's alone.
	isThisRulesMail := func(m billing.Mail) bool {
		return m.Kind == billing.MailAlert && m.To == "demo@creditline.test" && strings.Contains(m.Subject, "Balance below 1000000 credits")
	}
	var mails []billing.Mail
	for deadline := time.Now().Add(10 * time.Second); len(mails) == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond) // the server's worker runs the email job
		outbox, err := env.Svc.Outbox(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range outbox {
			if isThisRulesMail(m) {
				mails = append(mails, m)
			}
		}
	}
	time.Sleep(300 * time.Millisecond) // a second mail (a double firing) would be there by now
	outbox, _ := env.Svc.Outbox(ctx, 500)
	n := 0
	for _, m := range outbox {
		if isThisRulesMail(m) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d alert mails to the customer, want 1", n)
	}
	if len(mails) != 1 || mails[0].To != "demo@creditline.test" || !strings.Contains(mails[0].Subject, "Balance below 1000000 credits") ||
		!strings.Contains(mails[0].Body, "http://portal.test/billing") {
		t.Fatalf("alert mail: %+v", mails)
	}
	m := unsubLink.FindStringSubmatch(mails[0].Body)
	if m == nil {
		t.Fatalf("no unsubscribe link in %q", mails[0].Body)
	}
	anon := env.Client(t)
	if p := anon.Get("/alerts/unsubscribe?token=" + m[1] + "x"); p.Status != http.StatusNotFound {
		t.Fatalf("forged token: %d", p.Status)
	}
	p := anon.Get("/alerts/unsubscribe?token=" + m[1])
	if p.Status != http.StatusOK || p.Doc.Find(`[data-testid="unsubscribe-form"]`).Length() != 1 {
		t.Fatalf("confirm page: %d", p.Status)
	}
	if got, _ := env.Store.AlertRuleByID(ctx, demo.ID, r.ID); !got.HasChannel(billing.ChannelEmail) {
		t.Fatalf("GET alone turned email off")
	}
	p = anon.Submit("/alerts/unsubscribe?token="+m[1], "/alerts/unsubscribe", url.Values{"token": {m[1]}})
	if p.Status != http.StatusOK || p.Doc.Find(`[data-testid="unsubscribed"]`).Length() != 1 {
		t.Fatalf("unsubscribe: %d", p.Status)
	}
	got, _ := env.Store.AlertRuleByID(ctx, demo.ID, r.ID)
	if got.HasChannel(billing.ChannelEmail) || !got.HasChannel(billing.ChannelInApp) {
		t.Fatalf("channels after unsubscribe: %v", got.Channels)
	}
	es := alertAudit(t, env, demo.ID) // newest first
	if len(es) != base+2 || es[0].Action != billing.AuditAlertUpdate || es[0].Actor() != billing.UserActor(u.ID) ||
		!strings.Contains(es[0].Reason, "unsubscribed") {
		t.Fatalf("unsubscribe audit: %+v", es[0])
	}
}
