package web_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/store/pgtest"
	"creditline/web/webtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestLoginPageHasTheTwoFields(t *testing.T) {
	env := webtest.Start(t)
	p := env.Client(t).Get("/login")
	if p.Status != 200 {
		t.Fatalf("status %d", p.Status)
	}
	for _, name := range []string{"email", "password", "_csrf"} {
		if p.Doc.Find(`form[action="/login"] input[name="`+name+`"]`).Length() != 1 {
			t.Errorf("login form lacks input %q", name)
		}
	}
	if p.Doc.Find(`label[for="f-email"]`).Length() != 1 || p.Doc.Find(`label[for="f-password"]`).Length() != 1 {
		t.Error("inputs need labels")
	}
	csp := p.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}
}

func TestCSRFRefusesAPostWithoutTheToken(t *testing.T) {
	env := webtest.Start(t)
	c := env.Client(t)
	c.Get("/signup") // has a session, but we do not send its token
	p := c.PostForm("/signup", url.Values{"name": {"Eve"}, "email": {"eve@example.com"}, "password": {"long-enough-pw"}})
	if p.Status != http.StatusForbidden {
		t.Fatalf("status %d, want 403", p.Status)
	}
	p = c.PostForm("/signup", url.Values{"_csrf": {"forged"}, "name": {"Eve"}, "email": {"eve@example.com"}, "password": {"long-enough-pw"}})
	if p.Status != http.StatusForbidden {
		t.Fatalf("forged token: status %d, want 403", p.Status)
	}
	if _, err := env.Store.UserByEmail(context.Background(), "eve@example.com"); err == nil {
		t.Fatal("a user was created without a valid CSRF token")
	}
	// The same form with the token goes through.
	c.SignUp("Eve", "eve@example.com", "long-enough-pw")
}

func TestSessionIsRotatedAtSignIn(t *testing.T) {
	env := webtest.Start(t)
	c := env.Client(t)
	c.SignUp("Rot", "rot@example.com", "long-enough-pw")
	c.Submit("/", "/logout", url.Values{})
	login := c.Get("/login")
	before := c.Cookie("creditline")
	tokBefore, _ := login.Doc.Find(`input[name="_csrf"]`).Attr("value")
	if before == "" {
		t.Fatal("no session cookie before sign-in")
	}
	p := c.PostForm("/login", url.Values{"_csrf": {tokBefore}, "email": {"rot@example.com"}, "password": {"long-enough-pw"}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/" {
		t.Fatalf("login: %d %s", p.Status, p.Header.Get("Location"))
	}
	after := c.Cookie("creditline")
	if after == "" || after == before {
		t.Fatal("the session cookie after sign-in must be a new one")
	}
	home := c.Get("/")
	tokAfter, _ := home.Doc.Find(`input[name="_csrf"]`).Attr("value")
	if tokAfter == "" || tokAfter == tokBefore {
		t.Fatal("the CSRF token must change at sign-in")
	}
	// The pre-login cookie does not carry the signed-in user.
	stale := env.Client(t)
	u, _ := url.Parse(env.URL)
	stale.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: "creditline", Value: before, Path: "/"}})
	if p := stale.Get("/"); p.Status != http.StatusSeeOther {
		t.Fatalf("pre-login cookie reached the overview: %d", p.Status)
	}
}

func TestAdminIsForPlatformAdminsOnly(t *testing.T) {
	env := webtest.Start(t)
	anon := env.Client(t)
	if p := anon.Get("/admin"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous /admin: %d %s", p.Status, p.Header.Get("Location"))
	}
	cust := env.Client(t)
	cust.SignUp("Cust", "cust@example.com", "long-enough-pw")
	p := cust.Get("/admin")
	if p.Status != http.StatusNotFound || p.Doc.Find(`[data-testid="count-users"]`).Length() != 0 {
		t.Fatalf("customer /admin: %d", p.Status)
	}
	if _, err := env.Svc.EnsureAdmin(context.Background(), "boss@example.com", "admin-password"); err != nil {
		t.Fatal(err)
	}
	adm := env.Client(t)
	if p := adm.Login("boss@example.com", "admin-password"); p.Status != http.StatusSeeOther {
		t.Fatalf("admin login %d", p.Status)
	}
	p = adm.Get("/admin")
	if p.Status != 200 || p.Doc.Find(`[data-testid="count-users"]`).Length() != 1 {
		t.Fatalf("admin /admin: %d", p.Status)
	}
}

func TestSignUpErrorsKeepInputAndShowMessageBesideField(t *testing.T) {
	env := webtest.Start(t)
	c := env.Client(t)
	p := c.Submit("/signup", "/signup", url.Values{"name": {"Kim"}, "email": {"not-an-email"}, "password": {"short"}})
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", p.Status)
	}
	if v, _ := p.Doc.Find(`input[name="name"]`).Attr("value"); v != "Kim" {
		t.Errorf("name not kept: %q", v)
	}
	if v, _ := p.Doc.Find(`input[name="email"]`).Attr("value"); v != "not-an-email" {
		t.Errorf("email not kept: %q", v)
	}
	if !strings.Contains(p.Doc.Find(`[data-testid="error-email"]`).Text(), "valid email") {
		t.Errorf("no email message beside the field")
	}
	if !strings.Contains(p.Doc.Find(`[data-testid="error-password"]`).Text(), "10 characters") {
		t.Errorf("no password message beside the field")
	}
	for pw, want := range map[string]string{"Password123!": "too common", "Kimberly.Lee@example.com": "email", "kimberly.lee": "email"} {
		p = c.Submit("/signup", "/signup", url.Values{"name": {"Kim"}, "email": {"kimberly.lee@example.com"}, "password": {pw}})
		got := p.Doc.Find(`[data-testid="error-password"]`).Text()
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(got, want) {
			t.Errorf("password %q: %d %q, want %q", pw, p.Status, got, want)
		}
	}
}

// fromIP makes c connect from another loopback address, so the server sees another client IP.
func fromIP(c *webtest.Client, ip string) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c.HTTP.Transport = &http.Transport{DialContext: d.DialContext}
}

func TestLoginThrottleSlowsTheAttackerNotTheOwner(t *testing.T) {
	env := webtest.Start(t)
	if _, _, err := env.Svc.SignUp(context.Background(), billing.SignUpInput{Name: "Lee", Email: "lee@example.com", Password: "long-enough-pw"}); err != nil {
		t.Fatal(err)
	}
	attacker := env.Client(t)
	fromIP(attacker, "127.0.0.2")
	p := attacker.Login("lee@example.com", "wrong-password")
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "Email or password is incorrect.") {
		t.Fatalf("wrong password: %d", p.Status)
	}
	if v, _ := p.Doc.Find(`input[name="email"]`).Attr("value"); v != "lee@example.com" {
		t.Errorf("email not kept: %q", v)
	}
	for i := 0; i < 4; i++ {
		attacker.Login("lee@example.com", "wrong-password")
	}
	// Five failures from this address: the next try must wait, and is told how long.
	p = attacker.Login("lee@example.com", "long-enough-pw")
	if p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") != "1" || !strings.Contains(p.Body, "Wait 1 second") {
		t.Fatalf("sixth try: %d Retry-After=%q", p.Status, p.Header.Get("Retry-After"))
	}
	// The owner, from another address, signs in at once.
	owner := env.Client(t)
	fromIP(owner, "127.0.0.3")
	if p := owner.Login("lee@example.com", "long-enough-pw"); p.Status != http.StatusSeeOther {
		t.Fatalf("owner locked out by an attacker elsewhere: %d", p.Status)
	}
	// The delay grows with each further failure from the attacker's address.
	time.Sleep(1100 * time.Millisecond)
	if p := attacker.Login("lee@example.com", "wrong-password"); p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("after waiting: %d", p.Status)
	}
	if p := attacker.Login("lee@example.com", "wrong-password"); p.Header.Get("Retry-After") != "2" {
		t.Fatalf("second delay: %d Retry-After=%q", p.Status, p.Header.Get("Retry-After"))
	}
}

func TestOverviewShowsAccountAndZeroBalanceAfterSignUp(t *testing.T) {
	env := webtest.Start(t)
	c := env.Client(t)
	if p := c.Get("/"); p.Status != http.StatusSeeOther {
		t.Fatalf("anonymous overview: %d", p.Status)
	}
	c.SignUp("Ola Nordmann", "ola@example.com", "long-enough-pw")
	p := c.Get("/")
	if p.Status != 200 {
		t.Fatalf("status %d", p.Status)
	}
	if got := strings.TrimSpace(p.Doc.Find("h1").First().Text()); got != "Ola Nordmann" {
		t.Errorf("heading %q", got)
	}
	if p.Doc.Find(`[data-testid="balance"]`).Length() != 1 {
		t.Error("no balance on the overview")
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	env := webtest.Start(t)
	c := env.Client(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if p := c.Get(path); p.Status != 200 {
			t.Errorf("%s: %d", path, p.Status)
		}
	}
	if p := c.Get("/metrics"); p.Status != 404 { // no METRICS_TOKEN: see TestMetricsToken
		t.Errorf("metrics without a token configured: %d", p.Status)
	}
	c.SignUp("Nf", "nf@example.com", "long-enough-pw")
	if p := c.Get("/no-such-page"); p.Status != 404 || p.Doc.Find(`[data-testid="error-page"]`).Length() != 1 {
		t.Errorf("404 page: %d", p.Status)
	}
}
