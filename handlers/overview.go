package handlers

import (
	"net/http"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// customerAccount is the signed-in user's account: the one named by ?account= (or the form
// field account) when it is one of theirs, else their first. Any other id is not_found, so a
// guessed id reveals nothing. It also hands the layout the account.
func (h *Handlers) customerAccount(c echo.Context) (billing.Account, billing.Membership, string, error) {
	q := c.QueryParam("account")
	if q == "" && c.Request().Method == http.MethodPost {
		q = c.FormValue("account")
	}
	acc, m, err := h.svc.AccountForUser(c.Request().Context(), currentUser(c).ID, q)
	if err != nil {
		return billing.Account{}, billing.Membership{}, "", err
	}
	if err := h.shellAccount(c, &acc); err != nil {
		return billing.Account{}, billing.Membership{}, "", err
	}
	return acc, m, q, nil
}

// Overview: GET / — the balance and what it buys, the run-out projection, spend, the 30-day
// chart and recent activity.
func (h *Handlers) Overview(c echo.Context) error {
	acc, m, q, err := h.customerAccount(c)
	if err != nil {
		return err
	}
	o, err := h.svc.OverviewAs(c.Request().Context(), acc, m)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.OverviewPage(pages.Overview{Account: o.Account, O: o, AccountQ: q}))
}
