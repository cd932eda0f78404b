package handlers

import (
	"net/http"

	"creditline/views"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

func (h *Handlers) Overview(c echo.Context) error {
	u := currentUser(c)
	acc, _, err := h.svc.AccountForUser(c.Request().Context(), u.ID, "")
	if err != nil {
		return err
	}
	views.Req(c.Request().Context()).Account = &acc
	return render(c, http.StatusOK, pages.OverviewPage(pages.Overview{Account: acc}))
}
