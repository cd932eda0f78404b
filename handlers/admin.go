package handlers

import (
	"net/http"
	"time"

	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// AdminOverview: GET /admin — today's and this month's figures, from rollups.
func (h *Handlers) AdminOverview(c echo.Context) error {
	o, err := h.svc.AdminOverview(c.Request().Context())
	if err != nil {
		return err
	}
	o.Refusals = h.refusals.Counts(o.Now)
	if h.revenue != nil { // nil in programs that serve no revenue pages (e.g. a test harness)
		if o.Finance, err = h.revenue.Finance(c.Request().Context()); err != nil {
			return err
		}
	}
	return render(c, http.StatusOK, pages.AdminOverview(o))
}

// CountRefusals counts 402 and 429 answers of every route for the overview (in memory, per
// instance: refusals are not stored).
func (h *Handlers) CountRefusals(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		h.refusals.Note(err, c.Response().Status, time.Now())
		return err
	}
}
