package handlers

import (
	"net/http"

	"creditline/billing"
	"creditline/billing/revenue"
	"github.com/labstack/echo/v4"
)

type revenueRowJSON struct {
	Currency        string `json:"currency"`
	OpeningDeferred int64  `json:"opening_deferred"`
	Cash            int64  `json:"cash"`
	Recognised      int64  `json:"recognised"`
	Breakage        int64  `json:"breakage"`
	Refunds         int64  `json:"refunds"`
	ClosingDeferred int64  `json:"closing_deferred"`
}

// APIRevenueReport: GET /api/v1/reports/revenue?month=YYYY-MM (platform keys) — the month per
// currency, amounts in integer minor units.
func (h *Handlers) APIRevenueReport(c echo.Context) error {
	if err := requirePlatform(c); err != nil {
		return err
	}
	q := c.QueryParam("month")
	if q == "" {
		return billing.FieldError("month", "Required: a month as YYYY-MM.")
	}
	month, err := revenue.ParseMonth(q)
	if err != nil {
		return err
	}
	rows, err := h.revenue.Month(c.Request().Context(), month)
	if err != nil {
		return err
	}
	data := make([]revenueRowJSON, 0, len(rows))
	for _, r := range rows {
		data = append(data, revenueRowJSON{Currency: r.Currency, OpeningDeferred: r.Opening, Cash: r.Cash, Recognised: r.Recognised,
			Breakage: r.Breakage, Refunds: r.Refunds, ClosingDeferred: r.Closing})
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"month": month.Format("2006-01"), "data": data})
}
