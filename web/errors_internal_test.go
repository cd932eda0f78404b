package web

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"creditline/billing"
	"github.com/labstack/echo/v4"
)

// A rate_limited error's Retry-After is the wait it names in details.retry_after, and the
// body is the API's error object.
func TestErrorHandlerRetryAfterFromDetails(t *testing.T) {
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/api/v1/usage", nil), rec)
	limited := &billing.Error{Code: billing.ERateLimited, Message: "Slow down.", Details: map[string]any{"limit_per_min": 60, "retry_after": 7}}
	errorHandler(slog.New(slog.NewTextHandler(io.Discard, nil)), false)(limited, c)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "7" {
		t.Fatalf("%d Retry-After=%q", rec.Code, rec.Header().Get("Retry-After"))
	}
	var body struct {
		Error struct {
			Code    string         `json:"code"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "rate_limited" || body.Error.Details["retry_after"] != 7.0 {
		t.Fatalf("body %s (%v)", rec.Body, err)
	}
}
