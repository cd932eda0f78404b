package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// A failing readiness check answers 503 without its cause (which names hosts and users);
// the cause goes back to the request log.
func TestReadyzHidesTheCause(t *testing.T) {
	cause := errors.New(`pq: password authentication failed for user "billing" at db.internal:5432`)
	h := New(Config{Ready: func(context.Context) error { return cause }})
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/readyz", nil), rec)
	err := h.Readyz(c)
	if !errors.Is(err, cause) {
		t.Errorf("returned %v: the cause must reach the request log", err)
	}
	body := rec.Body.String()
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(body, `"unavailable"`) {
		t.Fatalf("%d %s", rec.Code, body)
	}
	for _, leak := range []string{"pq", "password", "billing", "db.internal"} {
		if strings.Contains(body, leak) {
			t.Errorf("body %s holds %q", body, leak)
		}
	}
}
