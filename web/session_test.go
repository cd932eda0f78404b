package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"creditline/billing"
	"creditline/store/pgtest"
	"creditline/web/webtest"
)

// withCookie is a new browser holding only the given session cookie (a copied cookie).
func withCookie(t *testing.T, env *webtest.Env, value string) *webtest.Client {
	c := env.Client(t)
	u, _ := url.Parse(env.URL)
	c.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: "creditline", Value: value, Path: "/"}})
	return c
}

func isSignedIn(p *webtest.Page) bool { return p.Status == http.StatusOK }

func TestLogoutRevokesTheSessionForGood(t *testing.T) {
	env := webtest.Start(t)
	c := env.Client(t)
	c.SignUp("Out", "out@example.com", "long-enough-pw")
	copied := c.Cookie("creditline")
	if !isSignedIn(withCookie(t, env, copied).Get("/")) {
		t.Fatal("a copy of a live cookie should work before logout")
	}
	if p := c.Submit("/", "/logout", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("logout: %d", p.Status)
	}
	// The copied cookie, replayed after logout, is anonymous.
	if p := withCookie(t, env, copied).Get("/"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
		t.Fatalf("replayed cookie after logout: %d %s", p.Status, p.Header.Get("Location"))
	}
}

func TestSessionCookieLivesAsLongAsTheSessionAndAnonymousVisitsStoreNothing(t *testing.T) {
	env := webtest.Start(t)
	db := pgtest.DB(t)
	count := func() (n int) {
		if err := db.Get(&n, `SELECT count(*) FROM sessions`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	anon := env.Client(t)
	anon.Get("/login")
	anon.Get("/signup")
	if count() != before {
		t.Fatal("an anonymous visitor created a session row")
	}
	if _, _, err := env.Svc.SignUp(context.Background(), billing.SignUpInput{Name: "Max", Email: "max@example.com", Password: "long-enough-pw"}); err != nil {
		t.Fatal(err)
	}
	p := anon.Login("max@example.com", "long-enough-pw")
	want := "Max-Age=2592000" // billing.SessionLifetime, 30 days
	if sc := p.Header.Get("Set-Cookie"); !strings.Contains(sc, want) || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") {
		t.Fatalf("Set-Cookie %q lacks %s, HttpOnly or SameSite=Lax", sc, want)
	}
	if count() != before+1 {
		t.Fatal("sign-in did not record one session")
	}
}

func TestChangePasswordEndsOtherSessionsKeepsThisOne(t *testing.T) {
	env := webtest.Start(t)
	laptop := env.Client(t)
	laptop.SignUp("Pat", "pat@example.com", "long-enough-pw")
	phone := env.Client(t)
	if p := phone.Login("pat@example.com", "long-enough-pw"); p.Status != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", p.Status)
	}
	home := laptop.Get("/")
	if home.Doc.Find(`a[href="/account/password"][data-testid="change-password-link"]`).Length() != 1 {
		t.Fatal("the page shell has no link to the password page")
	}
	oldCookie := laptop.Cookie("creditline")

	// Field errors beside each field, input kept out of the password boxes.
	p := laptop.Submit("/account/password", "/account/password", url.Values{"current_password": {"not-it-at-all"}, "new_password": {"qwertyuiop"}, "confirm_password": {"different"}})
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad change: %d", p.Status)
	}
	for field, want := range map[string]string{"current_password": "not your current", "new_password": "too common", "confirm_password": "differ"} {
		if got := p.Doc.Find(`[data-testid="error-` + field + `"]`).Text(); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	if !isSignedIn(phone.Get("/")) {
		t.Fatal("a refused change signed the other session out")
	}

	p = laptop.Submit("/account/password", "/account/password", url.Values{"current_password": {"long-enough-pw"}, "new_password": {"correct horse battery"}, "confirm_password": {"correct horse battery"}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/account/password?changed=1" {
		t.Fatalf("change: %d %s\n%s", p.Status, p.Header.Get("Location"), p.Body)
	}
	done := laptop.Get("/account/password?changed=1")
	if !isSignedIn(done) || !strings.Contains(done.Doc.Find(`[data-testid="flash"]`).Text(), "Password changed") {
		t.Fatalf("this browser should stay signed in and see the confirmation: %d", done.Status)
	}
	if laptop.Cookie("creditline") == oldCookie {
		t.Fatal("the session was not rotated")
	}
	if isSignedIn(phone.Get("/")) {
		t.Fatal("the other session survived the password change")
	}
	if isSignedIn(withCookie(t, env, oldCookie).Get("/")) {
		t.Fatal("this browser's pre-change cookie still works")
	}
	if p := env.Client(t).Login("pat@example.com", "correct horse battery"); p.Status != http.StatusSeeOther {
		t.Fatalf("new password: %d", p.Status)
	}
	// A stolen session cannot guess the current password at full speed either.
	for i := 0; i < 5; i++ {
		laptop.Submit("/account/password", "/account/password", url.Values{"current_password": {"guess-number-" + string(rune('a'+i))}, "new_password": {"x"}, "confirm_password": {"x"}})
	}
	p = laptop.Submit("/account/password", "/account/password", url.Values{"current_password": {"correct horse battery"}, "new_password": {"x"}, "confirm_password": {"x"}})
	if p.Status != http.StatusTooManyRequests || !strings.Contains(p.Body, "Wait 1 second") {
		t.Fatalf("sixth guess of the current password: %d", p.Status)
	}
}

func TestLoginNextStaysOnThisSite(t *testing.T) {
	env := webtest.Start(t)
	c := env.Client(t)
	c.SignUp("Nex", "nex@example.com", "long-enough-pw")
	for _, next := range []string{"/%09/evil.example", "//evil.example", "/%5Cevil.example", "/\\evil.example", "https:evil.example", "/%2F%2Fevil.example"} {
		// Signed in: the login page sends the user on, but only within the site.
		if p := c.Get("/login?next=" + url.QueryEscape(next)); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/" {
			t.Errorf("GET /login?next=%q: %d %q", next, p.Status, p.Header.Get("Location"))
		}
	}
	if p := c.Get("/login?next=" + url.QueryEscape("/usage?action=chat")); p.Header.Get("Location") != "/usage?action=chat" {
		t.Errorf("a safe next is honoured when signed in: %q", p.Header.Get("Location"))
	}
	anon := env.Client(t)
	p := anon.Submit("/login?next="+url.QueryEscape("/%09/evil.example"), "/login", url.Values{"email": {"nex@example.com"}, "password": {"long-enough-pw"}, "next": {"/%09/evil.example"}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/" {
		t.Fatalf("POST /login with an unsafe next: %d %q", p.Status, p.Header.Get("Location"))
	}
}

var tokenRE = regexp.MustCompile(`token=([A-Za-z0-9_-]+)`)

func TestSignUpRevealsNothingAboutRegisteredEmails(t *testing.T) {
	env := webtest.Start(t)
	if _, _, err := env.Svc.SignUp(context.Background(), billing.SignUpInput{Name: "Taken", Email: "taken@example.com", Password: "long-enough-pw"}); err != nil {
		t.Fatal(err)
	}
	answer := func(email string) (int, string) {
		p := env.Client(t).Submit("/signup", "/signup", url.Values{"name": {"Someone"}, "email": {email}, "password": {"another-long-pw"}})
		main := p.Doc.Find("main")
		main.Find(`input[name="_csrf"]`).Remove()
		html, _ := main.Html()
		return p.Status, strings.ReplaceAll(html, email, "EMAIL")
	}
	takenStatus, takenPage := answer("taken@example.com")
	newStatus, newPage := answer("fresh@example.com")
	if takenStatus != newStatus || takenPage != newPage {
		t.Fatalf("taken and new emails get different answers:\n%d %s\n%d %s", takenStatus, takenPage, newStatus, newPage)
	}
	if !strings.Contains(newPage, "We sent a link to") {
		t.Fatalf("sign-up answer: %s", newPage)
	}
	// The owner of the taken address is told by mail; the new address gets its link.
	mail, err := env.Svc.Outbox(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, m := range mail {
		kinds[m.To] = m.Kind
	}
	if kinds["taken@example.com"] != billing.MailSignupAttempt || kinds["fresh@example.com"] != billing.MailSignupLink {
		t.Fatalf("outbox kinds %v", kinds)
	}
	if _, err := env.Store.UserByEmail(context.Background(), "fresh@example.com"); billing.ErrorCode(err) != billing.ENotFound {
		t.Fatalf("a user exists before the link was followed: %v", err)
	}
}

func TestSignUpLinkNeedsThePasswordAndWorksOnce(t *testing.T) {
	env := webtest.Start(t)
	c := env.Client(t)
	c.Submit("/signup", "/signup", url.Values{"name": {"Ida"}, "email": {"ida@example.com"}, "password": {"ida-long-password"}})
	link := env.SignupLink(t, "ida@example.com")
	token := tokenRE.FindStringSubmatch(link)[1]

	// Someone following a link they did not ask for cannot finish without the password.
	stranger := env.Client(t)
	p := stranger.Submit(link, "/signup/confirm", url.Values{"token": {token}, "password": {"a-guess-at-it"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Doc.Find(`[data-testid="error-password"]`).Text(), "not the password") {
		t.Fatalf("wrong password on the link: %d", p.Status)
	}
	p = c.Submit(link, "/signup/confirm", url.Values{"token": {token}, "password": {"ida-long-password"}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/" || !isSignedIn(c.Get("/")) {
		t.Fatalf("confirm: %d %s", p.Status, p.Header.Get("Location"))
	}
	p = env.Client(t).Submit(link, "/signup/confirm", url.Values{"token": {token}, "password": {"ida-long-password"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "expired or was already used") {
		t.Fatalf("second use of the link: %d", p.Status)
	}
}

func TestTestModeBannerOnEveryPage(t *testing.T) {
	env := webtest.Start(t)
	c := env.Client(t)
	check := func(path string, p *webtest.Page) {
		t.Helper()
		b := p.Doc.Find(`aside[aria-label][data-testid="test-mode-banner"]`)
		if b.Length() != 1 || !strings.Contains(b.Text(), "Test mode — no money moves") {
			t.Errorf("%s (%d): no accessible test-mode banner", path, p.Status)
		}
	}
	for _, path := range []string{"/login", "/signup"} {
		check(path, c.Get(path))
	}
	c.SignUp("Ban", "ban@example.com", "long-enough-pw")
	for _, path := range []string{"/", "/billing", "/account/password", "/admin", "/no-such-page", "/static/no-such-file.css", "/metrics"} {
		check(path, c.Get(path))
	}
}
