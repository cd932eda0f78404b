// Package handlers turns HTTP requests into one service call each and renders the result.
package handlers

import (
	"context"
	"net/http"
	"time"

	"creditline/billing"
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

	loginIP, loginEmail, signupIP *billing.Limiter
	apiLimits                     apiLimiters
	refusals                      billing.Refusals // 402 and 429 answers, for the admin overview
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
}

// New builds the handlers.
func New(cfg Config) *Handlers {
	return &Handlers{
		svc: cfg.Service, sess: cfg.Sessions, ready: cfg.Ready, testMode: cfg.TestMode, webhooks: cfg.Webhooks,
		loginIP:    billing.NewLimiter(30, 15*time.Minute, nil),
		loginEmail: billing.NewLimiter(10, 15*time.Minute, nil),
		signupIP:   billing.NewLimiter(10, time.Hour, nil),
	}
}

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
	if e, ok := err.(*billing.Error); ok {
		if len(e.Fields) > 0 {
			return e.Fields, ""
		}
		return nil, e.Message
	}
	return nil, ""
}
