package handlers

import (
	"net/http"
	"time"

	"creditline/billing/revenue"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// reportEnd is the month the revenue page ends with: ?month=YYYY-MM, else this month.
func (h *Handlers) reportEnd(c echo.Context) (time.Time, error) {
	if m := c.QueryParam("month"); m != "" {
		return revenue.ParseMonth(m)
	}
	return h.revenue.Now(), nil
}

// AdminRevenue: GET /admin/revenue — 12 months per currency, chart and table, and the month's margin.
func (h *Handlers) AdminRevenue(c echo.Context) error {
	end, err := h.reportEnd(c)
	if err != nil {
		return err
	}
	r, err := h.revenue.Months(c.Request().Context(), end, revenue.ReportMonths)
	if err != nil {
		return err
	}
	m, err := h.revenue.MarginOf(c.Request().Context(), end)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.AdminRevenue(pages.AdminRevenueView{R: r, Margin: m}))
}

// AdminRevenueCSV: GET /admin/revenue.csv — the same 12 months as the page, in minor units.
func (h *Handlers) AdminRevenueCSV(c echo.Context) error {
	end, err := h.reportEnd(c)
	if err != nil {
		return err
	}
	r, err := h.revenue.Months(c.Request().Context(), end, revenue.ReportMonths)
	if err != nil {
		return err
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="revenue-`+r.Last.Format("2006-01")+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	return c.String(http.StatusOK, r.CSV())
}
