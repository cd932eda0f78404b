package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// AdminAudit: GET /admin/audit?account=&actor=&before= — the audit log, newest first.
func (h *Handlers) AdminAudit(c echo.Context) error {
	v := pages.AdminAuditView{Account: strings.TrimSpace(c.QueryParam("account")), Actor: strings.TrimSpace(c.QueryParam("actor"))}
	f := billing.AuditFilter{AccountID: v.Account, Limit: 50}
	var bad billing.Validation
	if v.Actor != "" {
		act, ok := billing.ParseActor(v.Actor)
		if !ok {
			bad.Add("actor", "Use a kind (user, api_key, webhook, job, system) or kind:id, e.g. user:usr_… or key:key_….")
		}
		f.Actor = &act
	}
	if s := c.QueryParam("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			bad.Add("before", "Not a page of this list.")
		}
		f.BeforeID, v.Paged = n, true
	}
	if err := bad.Err(); err != nil {
		v.Errors, _ = fieldErrors(err)
		return render(c, formStatus, pages.AdminAudit(v))
	}
	p, err := h.svc.AuditLog(c.Request().Context(), f)
	if err != nil {
		return err
	}
	v.Page = p
	return render(c, http.StatusOK, pages.AdminAudit(v))
}

// AdminSoon: the console pages later work fills; each says what it will hold.
func (h *Handlers) AdminSoon(c echo.Context) error {
	return render(c, http.StatusOK, pages.AdminSoon(c.Path()))
}
