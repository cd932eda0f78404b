// Package web assembles the Echo server: middleware stack, routes and the error handler.
package web

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"creditline/billing"
	"creditline/handlers"
	"creditline/static"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Deps are the collaborators the server needs.
type Deps struct {
	Handlers *handlers.Handlers
	Logger   *slog.Logger
	Metrics  *Metrics
	// HSTS sends Strict-Transport-Security; set it when the public base URL is https.
	HSTS bool
	// MetricsToken lets GET /metrics answer a request bearing it (Authorization: Bearer);
	// unset, /metrics is a 404 here and is served on its own listener (Metrics.HTTPHandler).
	MetricsToken string
	// TrustedProxies are the ranges whose X-Forwarded-For is believed; empty, the client IP is
	// the connection's address.
	TrustedProxies []netip.Prefix
}

// New builds the Echo server with every route of routes.go.
func New(d Deps) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(d.Logger, d.Handlers.TestMode())
	e.IPExtractor = ipExtractor(d.TrustedProxies)
	d.Metrics.token = d.MetricsToken

	// The logger and the metrics run the error handler themselves (when next returns an
	// error), so both record the status the client received, 429s and 500s included.
	e.Use(middleware.RequestID())
	e.Use(requestLogger(d.Logger))
	e.Use(d.Metrics.Middleware)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		d.Logger.Error("panic", "id", c.Response().Header().Get(echo.HeaderXRequestID), "err", err, "stack", string(stack))
		return err
	}}))
	e.Use(securityHeaders(d.HSTS))
	e.Use(bodyLimit)
	e.Use(checkInput)
	e.Use(d.Handlers.CountRefusals)

	routes(e, d.Handlers, d.Metrics)
	return e
}

// ipExtractor reads the client IP from the connection, or from X-Forwarded-For when the
// connection comes from a trusted proxy (and only then: no range is trusted by default).
func ipExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		p = p.Masked()
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// Body limits by route family: the JSON API, Stripe's webhooks, and browser forms (the
// admin console's may carry a price book document).
const (
	apiBodyLimit     = 1 << 20
	webhookBodyLimit = 512 << 10
	formBodyLimit    = 64 << 10
)

func bodyLimitFor(path string) int64 {
	switch {
	case strings.HasPrefix(path, "/api/"), path == "/admin" || strings.HasPrefix(path, "/admin/"):
		return apiBodyLimit
	case strings.HasPrefix(path, "/webhooks/"):
		return webhookBodyLimit
	}
	return formBodyLimit
}

// bodyLimit refuses a body over its route's limit: at once when Content-Length says so,
// else when a reader passes the limit (an invalid_request, JSON or page, never a 500).
func bodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		limit := bodyLimitFor(r.URL.Path)
		if r.ContentLength > limit {
			return handlers.BodyTooLarge(limit)
		}
		r.Body = http.MaxBytesReader(c.Response().Writer, r.Body, limit)
		return next(c)
	}
}

// checkInput applies billing.CheckText to every path parameter, query parameter and browser
// form field (names and values): NUL, control characters and invalid UTF-8 are a 400 naming
// the field. JSON bodies are checked by the API's decoder, which knows their field paths.
func checkInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		for i, name := range c.ParamNames() {
			if i < len(c.ParamValues()) {
				if err := billing.CheckText(name, c.ParamValues()[i]); err != nil {
					return err
				}
			}
		}
		if c.Request().URL.RawQuery != "" {
			if err := checkValues("query", c.QueryParams()); err != nil {
				return err
			}
		}
		if hasForm(c.Request()) {
			form, err := parseForm(c.Request())
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return handlers.BodyTooLarge(mbe.Limit)
				}
				return billing.Errorf(billing.EInvalid, "The form could not be read.")
			}
			if err := checkValues("form", form); err != nil {
				return err
			}
		}
		return next(c)
	}
}

// parseForm reads the body the way handlers will (c.FormValue: net/http's multipart, then
// urlencoded parser, which match the media type case-insensitively) and returns the body's
// fields; a body of another type yields none.
func parseForm(r *http.Request) (url.Values, error) {
	// ParseForm first: ParseMultipartForm drops its error when the body is not multipart.
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	if err := r.ParseMultipartForm(formMemory); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return nil, err
	}
	return r.PostForm, nil
}

// formMemory is what a multipart form may hold in memory (net/http's default); the body
// limit bounds it anyway.
const formMemory = 32 << 20

func checkValues(what string, vs url.Values) error {
	for name, values := range vs {
		if err := billing.CheckText(what, name); err != nil {
			return billing.FieldError(what, "parameter names must not contain NUL bytes, control characters or invalid UTF-8")
		}
		for _, v := range values {
			if err := billing.CheckText(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// hasForm: a request whose body handlers may read as a form, whatever its Content-Type says.
// API and webhook bodies are left unread (a webhook's signature covers its raw bytes).
func hasForm(r *http.Request) bool {
	return r.Method != http.MethodGet && r.Method != http.MethodHead &&
		!strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/webhooks/")
}

// serveStatic serves fingerprinted assets with a year-long cache.
func serveStatic(c echo.Context) error {
	body, mime, ok := static.Lookup(c.Request().URL.Path)
	if !ok {
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, mime, body)
}

// csp allows forms to post here and to be redirected to Stripe (Checkout, the customer
// portal, and the pages an auto-recharge's authentication leads to).
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self' https://*.stripe.com; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"

// securityHeaders: every answer but a static asset carries account data or may, so none is
// stored by a browser or a proxy.
func securityHeaders(hsts bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "same-origin")
			if hsts {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			if !strings.HasPrefix(c.Request().URL.Path, "/static/") {
				h.Set("Cache-Control", "no-store")
			}
			return next(c)
		}
	}
}

func requestLogger(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		HandleError: true,
		LogStatus:   true, LogURI: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogRemoteIP: true, LogError: true,
		Skipper: func(c echo.Context) bool { return strings.HasPrefix(c.Path(), "/static/") },
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			attrs := []any{"id", v.RequestID, "method", v.Method, "uri", logURI(c.Request()), "status", v.Status,
				"ms", float64(v.Latency.Microseconds()) / 1000, "ip", v.RemoteIP}
			if v.Status >= 500 {
				log.Error("request", append(attrs, "err", errString(v.Error))...)
			} else {
				log.Info("request", attrs...)
			}
			return nil
		},
	})
}

// logURI is the request's path and query for logs, with the values of secret-looking query
// parameters (a sign-up link's token, a key, a password) replaced by "REDACTED", also inside
// a parameter that carries a URL of its own (next=/path?token=...).
func logURI(r *http.Request) string {
	if r.RequestURI == "" {
		return redactURI(r.URL.RequestURI())
	}
	return redactURI(r.RequestURI)
}

func redactURI(uri string) string {
	path, query, hasQuery := strings.Cut(uri, "?")
	path = redactPath(path)
	if !hasQuery {
		return path
	}
	parts := strings.Split(query, "&")
	for i, p := range parts {
		name, value, _ := strings.Cut(p, "=")
		if dec, err := url.QueryUnescape(name); err == nil {
			name = dec
		}
		if secretParam(name) {
			parts[i] = url.QueryEscape(name) + "=REDACTED"
		} else if dec, err := url.QueryUnescape(value); err == nil && (strings.Contains(dec, "?") || redactPath(dec) != dec) {
			if red := redactURI(dec); red != dec {
				parts[i] = url.QueryEscape(name) + "=" + url.QueryEscape(red)
			}
		}
	}
	return path + "?" + strings.Join(parts, "&")
}

// secretPaths are path prefixes whose next segment is a secret (an invitation link's token).
var secretPaths = []string{"/invitations/"}

// redactPath replaces the secret segment of such a path with "REDACTED", keeping what follows
// (/invitations/<token>/accept logs as /invitations/REDACTED/accept).
func redactPath(path string) string {
	for _, p := range secretPaths {
		if rest, ok := strings.CutPrefix(path, p); ok && rest != "" {
			_, tail, _ := strings.Cut(rest, "/")
			if tail != "" || strings.HasSuffix(rest, "/") {
				tail = "/" + tail
			}
			return p + "REDACTED" + tail
		}
	}
	return path
}

// secretParam: a query parameter whose value must not reach a log.
func secretParam(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"token", "key", "secret", "password", "passwd", "signature", "session", "auth"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// ShutdownTimeout bounds graceful shutdown: in-flight requests get this long to finish.
const ShutdownTimeout = 30 * time.Second
