package handlers

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Healthz says the process is up.
func (h *Handlers) Healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// Readyz says the database answers and the schema is current. A failure's cause (which may
// name hosts, users or tables) goes to the log only, never to the unauthenticated caller.
func (h *Handlers) Readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := h.ready(ctx); err != nil {
		if werr := c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"}); werr != nil {
			return werr
		}
		// The answer is sent: the error only reaches the request log, with the request id.
		return fmt.Errorf("readyz: %w", err)
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
