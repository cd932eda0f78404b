package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"creditline/web/browsertest"
	"creditline/web/webtest"
	"github.com/chromedp/chromedp"
)

// TestBrowserAdminOutboxHTMLPart: an admin opens a sign-up mail in the outbox and its HTML
// version, shown as escaped source (no element of the mail becomes part of the console), at
// 1280 and 390 px without sideways scrolling; axe checks each state.
func TestBrowserAdminOutboxHTMLPart(t *testing.T) {
	env := webtest.Start(t)
	seedDemo(t, env)
	addr := "outbox-html-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "@example.com"
	env.Client(t).SignUp("Ann <b>Bold</b>", addr, "long-enough-pw")
	mail, err := env.Svc.Outbox(context.Background(), 500)
	if err != nil {
		t.Fatal(err)
	}
	row := ""
	for _, m := range mail {
		if m.To == addr {
			row = `[data-testid="outbox-row"][data-mail="` + strconv.FormatInt(m.ID, 10) + `"]`
		}
	}
	if row == "" {
		t.Fatal("no sign-up mail in the outbox")
	}
	b := browsertest.New(t, env.URL, 1280, 900)
	b.Open("/login")
	b.Fill(`#f-email`, "admin@creditline.test")
	b.Fill(`#f-password`, "admin-password")
	b.Click(`[data-testid="login-form"] button[type="submit"]`)
	waitURL(t, b, func(u string) bool { return !strings.Contains(u, "/login") })
	for _, w := range []struct{ width, height int64 }{{1280, 900}, {390, 844}} {
		b.Run(chromedp.EmulateViewport(w.width, w.height))
		b.Open("/admin/outbox")
		b.Click(row + ` summary`)
		b.WaitVisible(row + ` [data-testid="outbox-html"] summary`)
		b.Click(row + ` [data-testid="outbox-html"] summary`)
		b.WaitVisible(row + ` [data-testid="outbox-html-source"]`)
		b.CheckA11y("/admin/outbox (HTML part open)")
		b.Screenshot("admin-outbox-html-" + strconv.FormatInt(w.width, 10))
		var source string
		eval(b, `document.querySelector('`+row+` [data-testid="outbox-html-source"]').textContent`, &source)
		if !strings.Contains(source, "<!DOCTYPE html>") || !strings.Contains(source, "Ann &lt;b&gt;Bold&lt;/b&gt;") {
			t.Errorf("HTML source shown:\n%.400s", source)
		}
		var injected int
		eval(b, `document.querySelectorAll('[data-testid="outbox-html"] b, [data-testid="outbox-html"] h1, [data-testid="outbox-html"] table').length`, &injected)
		if injected != 0 {
			t.Errorf("%d elements of the mail's HTML became part of the page", injected)
		}
		var sizes []int
		eval(b, `[document.documentElement.scrollWidth, window.innerWidth]`, &sizes)
		if len(sizes) != 2 || sizes[0] > sizes[1] {
			t.Errorf("outbox scrolls sideways at %d px: %v", w.width, sizes)
		}
	}
}
