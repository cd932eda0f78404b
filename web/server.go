// Package web assembles the Echo server: middleware stack, routes and the error handler.
package web

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

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
}

// New builds the Echo server with every route of routes.go.
func New(d Deps) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(d.Logger)
	e.IPExtractor = echo.ExtractIPDirect()

	e.Use(middleware.RequestID())
	e.Use(requestLogger(d.Logger))
	e.Use(middleware.Recover())
	e.Use(securityHeaders)
	e.Use(d.Metrics.Middleware)
	e.Use(d.Handlers.CountRefusals)
	e.Use(middleware.BodyLimit("1M"))

	routes(e, d.Handlers, d.Metrics)
	return e
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

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		return next(c)
	}
}

func requestLogger(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogRemoteIP: true, LogError: true,
		Skipper: func(c echo.Context) bool { return strings.HasPrefix(c.Path(), "/static/") },
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			attrs := []any{"id", v.RequestID, "method", v.Method, "uri", v.URI, "status", v.Status,
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

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// ShutdownTimeout bounds graceful shutdown: in-flight requests get this long to finish.
const ShutdownTimeout = 30 * time.Second
