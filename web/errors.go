package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"creditline/billing"
	"creditline/handlers"
	"creditline/static"
	"creditline/views"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// statusOf maps a domain error code to its HTTP status; the one place that does.
func statusOf(code string) int {
	switch code {
	case billing.EInvalid:
		return http.StatusBadRequest
	case billing.EUnauthenticated:
		return http.StatusUnauthorized
	case billing.EInsufficient, billing.ESpendLimit, billing.EMemberLimit:
		return http.StatusPaymentRequired
	case billing.EForbidden, billing.EAccountPaused, billing.EAccountSuspended, billing.ENotEntitled,
		billing.EVerificationRequired:
		return http.StatusForbidden
	case billing.ENotFound:
		return http.StatusNotFound
	case billing.EConflict, billing.EIdempotencyConflict:
		return http.StatusConflict
	case billing.EUnknownAction:
		return http.StatusUnprocessableEntity
	case billing.ERateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// fromHTTPError turns Echo's own errors (no route, wrong method, body too large) into domain errors.
func fromHTTPError(he *echo.HTTPError) *billing.Error {
	switch he.Code {
	case http.StatusNotFound:
		return &billing.Error{Code: billing.ENotFound, Message: "Page not found."}
	case http.StatusMethodNotAllowed:
		return &billing.Error{Code: billing.ENotFound, Message: "Page not found."}
	case http.StatusRequestEntityTooLarge:
		return &billing.Error{Code: billing.EInvalid, Message: "The request body is larger than 1 MiB."}
	case http.StatusBadRequest:
		return &billing.Error{Code: billing.EInvalid, Message: "The request is malformed."}
	}
	return nil
}

// errorHandler renders every error once: JSON for the API, a fragment for htmx, a page otherwise.
// Unexpected errors are logged with the request id and shown as "Something went wrong".
func errorHandler(log *slog.Logger, testMode bool) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		reqID := c.Response().Header().Get(echo.HeaderXRequestID)
		var be *billing.Error
		var he *echo.HTTPError
		switch {
		case errors.As(err, &be):
		case errors.As(err, &he):
			be = fromHTTPError(he)
		}
		status := http.StatusInternalServerError
		msg := "Something went wrong (ref: " + reqID + "). We have been told; please try again."
		if be != nil {
			status, msg, err = statusOf(be.Code), be.Message, be
			if be.Code == billing.ERateLimited {
				setRetryAfter(c, be)
			}
		} else {
			log.Error("unexpected error", "id", reqID, "method", c.Request().Method, "uri", logURI(c.Request()), "err", err)
		}
		if strings.HasPrefix(c.Request().URL.Path, "/api/") || strings.HasPrefix(c.Request().URL.Path, "/webhooks/") {
			_ = c.JSON(status, map[string]any{"error": handlers.NewAPIError(err, msg)})
			return
		}
		title := http.StatusText(status)
		if status == http.StatusNotFound {
			title = "Page not found"
		}
		view := pages.ErrorView{Status: status, Title: title, Message: msg, RequestID: reqID}
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
		c.Response().WriteHeader(status)
		ctx := c.Request().Context()
		if c.Request().Header.Get("HX-Request") == "true" {
			// The region that asked gets the message alone, never a page inside the page.
			_ = pages.ErrorFragment(view).Render(ctx, c.Response())
			return
		}
		if _, ok := views.Lookup(ctx); !ok { // a route outside the session group (static, metrics): no page facts yet
			ctx = views.WithRequest(ctx, &views.Request{RequestID: reqID, Asset: static.URL, TestMode: testMode})
		}
		_ = pages.ErrorPage(view).Render(ctx, c.Response())
	}
}

// setRetryAfter sends Retry-After for a rate_limited error that has not set it: its
// details.retry_after (seconds), else a minute.
func setRetryAfter(c echo.Context, be *billing.Error) {
	h := c.Response().Header()
	if h.Get("Retry-After") != "" {
		return
	}
	secs, ok := be.Details["retry_after"].(int)
	if !ok || secs < 1 {
		secs = 60
	}
	h.Set("Retry-After", strconv.Itoa(secs))
}
