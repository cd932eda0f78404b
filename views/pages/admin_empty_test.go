package pages_test

import (
	"context"
	"strings"
	"testing"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// TestAdminListsSayWhenEmpty: every list of the console's other pages, given nothing,
// shows an empty state that names what is missing and what fills it. (The account page's
// lists are checked over HTTP in web/admin_account_page_test.go.)
func TestAdminListsSayWhenEmpty(t *testing.T) {
	for _, c := range []struct {
		name  string
		page  templ.Component
		wants []string // the title of each empty state, in page order
	}{
		{"customers", pages.AdminCustomers(pages.AdminCustomersView{}), []string{"No customers yet"}},
		{"customers search", pages.AdminCustomers(pages.AdminCustomersView{Q: "zz"}), []string{"No account matches “zz”"}},
		{"audit log", pages.AdminAudit(pages.AdminAuditView{}), []string{"No audit entries"}},
		{"api keys", pages.AdminAPIKeys(pages.AdminKeysView{}), []string{"No platform keys yet"}},
		{"outbox", pages.AdminOutboxPage(pages.AdminOutbox{}), []string{"No mail yet"}},
		{"jobs", pages.AdminJobs(pages.AdminJobsView{J: billing.JobsView{}}), []string{"No failed jobs", "Nothing running", "Nothing queued", "Nothing done recently"}},
		{"overview", pages.AdminOverview(billing.AdminOverview{}), []string{"No revenue yet", "No usage in the last 30 days", "No usage this month"}},
	} {
		var b strings.Builder
		if err := c.page.Render(context.Background(), &b); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		doc.Find(`[data-testid="empty"]`).Each(func(_ int, s *goquery.Selection) {
			got = append(got, strings.TrimSpace(s.Find("p").First().Text()))
			if hint := strings.TrimSpace(s.Find("div").Text()); len(hint) < 15 {
				t.Errorf("%s: empty state %q says nothing of what fills it (%q)", c.name, got[len(got)-1], hint)
			}
		})
		if strings.Join(got, "|") != strings.Join(c.wants, "|") {
			t.Errorf("%s: empty states %q, want %q", c.name, got, c.wants)
		}
	}
}
