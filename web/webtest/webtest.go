// Package webtest starts the real server over a fresh test database and gives tests a
// browser-like client (cookie jar, CSRF token, no automatic redirects).
package webtest

import (
	"context"
	"creditline/billing/simulate"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/abuse"
	"creditline/billing/reconcile"
	"creditline/billing/revenue"
	"creditline/billing/webhooks"
	"creditline/handlers"
	"creditline/payments"
	"creditline/store"
	"creditline/store/pgtest"
	"creditline/web"
	"github.com/PuerkitoBio/goquery"
)

// Env is a running server with its service, for arranging data directly.
type Env struct {
	URL   string
	Svc   *billing.Service
	Store *store.Store
	// Payments is the test-mode provider (tests can plan declines).
	Payments *payments.TestMode
	// Hooks is the customer-webhook service.
	Hooks *webhooks.Service
	// Abuse is the abuse detection service; tests run its detectors with Abuse.Run (the
	// periodic job is registered but not scheduled).
	Abuse *abuse.Service
}

// Start runs the full middleware stack and routes on an httptest server; opts adjust the
// service's options.
func Start(t testing.TB, opts ...func(*billing.Options)) *Env {
	t.Helper()
	return start(t, false, opts)
}

// StartFresh is Start over a database of the test's own, for tests that read whole tables
// (the abuse detectors see every account).
func StartFresh(t testing.TB, opts ...func(*billing.Options)) *Env {
	t.Helper()
	return start(t, true, opts)
}

func start(t testing.TB, fresh bool, opts []func(*billing.Options)) *Env {
	t.Helper()
	db := pgtest.DB(t)
	if fresh {
		db = pgtest.Fresh(t)
	}
	st := store.New(db)
	pay := payments.NewTestMode()
	// bcrypt.MinCost: tests hash many passwords.
	o := billing.Options{PasswordCost: 4, Payments: pay}
	for _, f := range opts {
		f(&o)
	}
	svc := billing.NewService(st, o)
	ctx, cancel := context.WithCancel(context.Background())
	if err := svc.SeedCatalog(ctx); err != nil {
		t.Fatalf("seed catalog: %v", err)
	}
	if err := svc.LoadLiveBook(ctx); err != nil {
		t.Fatalf("load price book: %v", err)
	}
	hooks := webhooks.New(svc, st.Webhooks(), webhooks.Options{AllowPrivate: true})
	rev := revenue.New(st.Revenue(), svc.Now) // reports catch up when read: no loop needed here
	w := svc.NewWorker(slog.New(slog.NewTextHandler(io.Discard, nil)))
	hooks.Register(w)
	det := abuse.New(svc, st.Abuse(), abuse.Options{})
	det.Register(w)
	w.Poll = 50 * time.Millisecond
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	h := handlers.New(handlers.Config{
		Service:  svc,
		Sessions: handlers.NewSessions([]byte("test-secret-test-secret-test-secret!"), false),
		Ready:    func(ctx context.Context) error { return db.PingContext(ctx) },
		TestMode: true,
		// Tests receive webhooks on httptest servers (http, 127.0.0.1): WEBHOOK_ALLOW_PRIVATE=true.
		CustomerWebhooks: hooks,
		Abuse:            det,
		Revenue:          rev,
		Reconcile:        reconcile.New(st.Reconcile(), rev, svc.Now),
		Simulations:      simulate.NewRunner(st, svc.Now),
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(web.New(web.Deps{Handlers: h, Logger: log, Metrics: web.NewMetrics()}))
	t.Cleanup(srv.Close)
	return &Env{URL: srv.URL, Svc: svc, Store: st, Payments: pay, Hooks: hooks, Abuse: det}
}

// Client is one browser: its own cookies.
type Client struct {
	t    testing.TB
	base string
	env  *Env
	HTTP *http.Client
}

// Client returns a new browser with an empty cookie jar.
func (e *Env) Client(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, base: e.URL, env: e, HTTP: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// Page is a response with its parsed document.
type Page struct {
	Status int
	Header http.Header
	Body   string
	Doc    *goquery.Document
}

func (c *Client) do(req *http.Request) *Page {
	c.t.Helper()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(b)))
	return &Page{Status: resp.StatusCode, Header: resp.Header, Body: string(b), Doc: doc}
}

// Get fetches a path.
func (c *Client) Get(path string) *Page {
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	return c.do(req)
}

// GetHX fetches a path as htmx does (HX-Request: true).
func (c *Client) GetHX(path string) *Page {
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	req.Header.Set("HX-Request", "true")
	return c.do(req)
}

// PostForm posts form values as-is (include _csrf yourself, or use Submit).
func (c *Client) PostForm(path string, v url.Values) *Page {
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// Submit GETs formPage, takes the CSRF token from it, and posts v to action.
func (c *Client) Submit(formPage, action string, v url.Values) *Page {
	c.t.Helper()
	p := c.Get(formPage)
	tok, ok := p.Doc.Find(`input[name="_csrf"]`).First().Attr("value")
	if !ok {
		c.t.Fatalf("no CSRF token on %s (status %d)", formPage, p.Status)
	}
	v.Set("_csrf", tok)
	return c.PostForm(action, v)
}

// Cookie returns the value of a cookie for the server's URL.
func (c *Client) Cookie(name string) string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// SignUp creates a user through the form, follows the link mailed to them, and leaves the
// client signed in.
func (c *Client) SignUp(name, email, password string) *Page {
	c.t.Helper()
	p := c.Submit("/signup", "/signup", url.Values{"name": {name}, "email": {email}, "password": {password}})
	if p.Status != http.StatusOK || p.Doc.Find(`[data-testid="signup-sent"]`).Length() != 1 {
		c.t.Fatalf("sign-up %s: status %d\n%s", email, p.Status, p.Body)
	}
	link := c.env.SignupLink(c.t, email)
	p = c.Submit(link, "/signup/confirm", url.Values{"token": {strings.TrimPrefix(link, "/signup/confirm?token=")}, "password": {password}})
	if p.Status != http.StatusSeeOther {
		c.t.Fatalf("sign-up link of %s: status %d\n%s", email, p.Status, p.Body)
	}
	return p
}

var signupLink = regexp.MustCompile(`/signup/confirm\?token=[A-Za-z0-9_-]+`)

// SignupLink returns the path of the newest sign-up link mailed to email (from the outbox).
func (e *Env) SignupLink(t testing.TB, email string) string {
	t.Helper()
	mail, err := e.Svc.Outbox(context.Background(), 500)
	if err != nil {
		t.Fatalf("outbox: %v", err)
	}
	for _, m := range mail {
		if m.To == billing.NormalizeEmail(email) && m.Kind == billing.MailSignupLink {
			if l := signupLink.FindString(m.Body); l != "" {
				return l
			}
		}
	}
	t.Fatalf("no sign-up link mailed to %s", email)
	return ""
}

// Login signs in through the form.
func (c *Client) Login(email, password string) *Page {
	c.t.Helper()
	return c.Submit("/login", "/login", url.Values{"email": {email}, "password": {password}})
}
