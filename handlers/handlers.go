// Package handlers turns HTTP requests into one service call each and renders the result.
package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"creditline/billing"
	"creditline/billing/abuse"
	"creditline/billing/reconcile"
	"creditline/billing/revenue"
	"creditline/billing/simulate"
	"creditline/billing/webhooks"
	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// Handlers holds what every handler needs.
type Handlers struct {
	svc      *billing.Service
	sess     *Sessions
	ready    func(context.Context) error
	testMode bool
	webhooks WebhookParser
	hooks    *webhooks.Service // customer webhooks
	abuse    *abuse.Service    // abuse detection and review

	revenue   *revenue.Service   // revenue report and margin
	reconcile *reconcile.Service // vendor reconciliation
	sims      *simulate.Runner   // price book impact simulations; nil: not offered

	baseURL string

	login                 loginThrottle
	signupIP, signupEmail *billing.Limiter
	signupMail            *billing.Limiter // sign-up mails per address, whatever the IP
	keyFails              keyFailures      // failed API key attempts per client address
	refusals              billing.Refusals // 402 and 429 answers, for the admin overview
}

// Config configures New.
type Config struct {
	Service  *billing.Service
	Sessions *Sessions
	// Ready reports whether the database is reachable and migrated.
	Ready    func(context.Context) error
	TestMode bool
	// Webhooks verifies Stripe webhooks (package payments); nil when none are configured.
	Webhooks WebhookParser
	// BaseURL (BASE_URL) is the site's URL for links in mail; empty: the request's origin.
	BaseURL string
	// CustomerWebhooks manages customers' webhook endpoints and deliveries.
	CustomerWebhooks *webhooks.Service
	// Abuse runs the abuse review queue.
	Abuse *abuse.Service
	// Revenue reads the revenue and margin rollups; Reconcile imports vendor files.
	Revenue   *revenue.Service
	Reconcile *reconcile.Service
	// Simulations runs price book impact simulations (nil: the editor offers none).
	Simulations *simulate.Runner
}

// New builds the handlers.
func New(cfg Config) *Handlers {
	return &Handlers{
		svc: cfg.Service, sess: cfg.Sessions, ready: cfg.Ready, testMode: cfg.TestMode, webhooks: cfg.Webhooks,
		baseURL:     cfg.BaseURL,
		hooks:       cfg.CustomerWebhooks,
		abuse:       cfg.Abuse,
		revenue:     cfg.Revenue,
		reconcile:   cfg.Reconcile,
		sims:        cfg.Simulations,
		login:       newLoginThrottle(nil),
		signupIP:    billing.NewLimiter(10, time.Hour, nil),
		signupEmail: billing.NewLimiter(3, time.Hour, nil),
		signupMail:  billing.NewLimiter(billing.SignupMailsPerDay, 24*time.Hour, nil),
	}
}

// loginThrottle slows password guessing with growing delays, never a lock an attacker can
// hold: the email+IP pair slows first; an IP trying many emails slows later; an email tried
// from many IPs slows last and at most by emailCap, so its owner always gets in.
type loginThrottle struct {
	pair, ip, email *billing.Throttle
}

// emailCap is the longest wait an attacker can impose on an email from other addresses.
const emailCap = 30 * time.Second

func newLoginThrottle(now func() time.Time) loginThrottle {
	return loginThrottle{
		pair:  billing.NewThrottle(5, time.Second, 5*time.Minute, time.Hour, now),
		ip:    billing.NewThrottle(50, time.Second, 5*time.Minute, time.Hour, now),
		email: billing.NewThrottle(100, time.Second, emailCap, 15*time.Minute, now),
	}
}

// reserve counts one attempt for the pair, the IP and the email before the password is
// checked, so concurrent requests cannot all pass the check first; it returns the wait instead
// (counting nothing) when any of the three must wait. The caller settles the attempt: keep it
// (a wrong password), succeed, or undo (no password was checked).
func (t loginThrottle) reserve(ip, email string) time.Duration {
	if w := t.pair.Attempt(email + "|" + ip); w > 0 {
		return w
	}
	if w := t.ip.Attempt(ip); w > 0 {
		t.pair.Undo(email + "|" + ip)
		return w
	}
	if w := t.email.Attempt(email); w > 0 {
		t.pair.Undo(email + "|" + ip)
		t.ip.Undo(ip)
		return w
	}
	return 0
}

// undo gives back an attempt reserve counted.
func (t loginThrottle) undo(ip, email string) {
	t.pair.Undo(email + "|" + ip)
	t.ip.Undo(ip)
	t.email.Undo(email)
}

// succeed clears the pair's failures; the IP's and the email's decay on their own, so one
// success in between does not reset an attacker's slow-down.
func (t loginThrottle) succeed(ip, email string) {
	t.pair.Reset(email + "|" + ip)
	t.ip.Undo(ip)
	t.email.Undo(email)
}

// clientKey is the client's address as the per-address throttles count it (billing.ClientKey).
func clientKey(c echo.Context) string { return billing.ClientKey(c.RealIP()) }

// TestMode says payments are simulated (PAYMENTS=test); every page says so.
func (h *Handlers) TestMode() bool { return h.testMode }

// render writes a templ component with a status.
func render(c echo.Context, status int, comp templ.Component) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return comp.Render(c.Request().Context(), c.Response())
}

// formStatus is the status of a form re-rendered with errors: 422, which htmx is configured
// to swap like a success (see layouts.htmxConfig).
const formStatus = http.StatusUnprocessableEntity

// fieldErrors extracts per-field messages from a validation error, or puts the message
// under "" for errors that belong to the whole form.
func fieldErrors(err error) (map[string]string, string) {
	var e *billing.Error
	if errors.As(err, &e) {
		if len(e.Fields) > 0 {
			return e.Fields, ""
		}
		return nil, e.Message
	}
	return nil, ""
}
