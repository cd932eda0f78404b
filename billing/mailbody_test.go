package billing

import (
	"strings"
	"testing"
)

func TestMailContentWritesBothBodiesAndEscapesHTML(t *testing.T) {
	c := mailContent{Greeting: `Hello <script>alert("x")</script> & co,`,
		Paras:       []string{"Your balance is low."},
		Figures:     []mailFigure{{"Available balance", "12.5 credits"}, {"Alert <threshold>", "20 credits"}},
		Actions:     []mailLink{{"Top up", "https://portal.example/billing"}, {"Evil", "javascript:alert(1)"}},
		Notes:       []string{"A note."},
		Unsubscribe: "https://portal.example/alerts/unsubscribe?token=a&b"}
	text := c.text()
	for _, want := range []string{"Hello <script>", "Available balance: 12.5 credits", "Top up: https://portal.example/billing",
		"A note.", "Stop these emails for this rule: https://portal.example/alerts/unsubscribe?token=a&b"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	html := c.html(`Low <balance>`)
	for _, want := range []string{"<title>Low &lt;balance&gt;</title>", "Hello &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co,",
		"12.5 credits", "Alert &lt;threshold&gt;", `href="https://portal.example/billing"`, `href="#ZgotmplZ"`,
		`href="https://portal.example/alerts/unsubscribe?token=a&amp;b"`} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q:\n%s", want, html)
		}
	}
	if strings.Contains(html, "<script>") || strings.Contains(html, "javascript:") {
		t.Errorf("HTML carries active content:\n%s", html)
	}
	// No unsubscribe: no footer about alert rules.
	c.Unsubscribe = ""
	if strings.Contains(c.text(), "alert rule") || strings.Contains(c.html("x"), "alert rule") {
		t.Error("a mail without an unsubscribe link mentions alert rules")
	}
}
