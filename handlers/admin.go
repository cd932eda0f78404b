package handlers

import (
	"net/http"

	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

func (h *Handlers) AdminOverview(c echo.Context) error {
	counts, err := h.svc.PlatformCounts(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.AdminOverview(counts))
}
