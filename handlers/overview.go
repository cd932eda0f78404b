package handlers

import (
	"net/http"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// customerAccount is the signed-in user's account: the one named by ?account= (or the form
// field account) when it is one of theirs, else the session's current account (the switcher's
// choice), else their first: a current account they no longer belong to falls back to the
// first. A named id not theirs is not_found, so a guessed id reveals nothing. It also hands
// the layout the account, the user's memberships and their role.
func (h *Handlers) customerAccount(c echo.Context) (billing.Account, billing.Membership, string, error) {
	q := c.QueryParam("account")
	if q == "" && c.Request().Method == http.MethodPost {
		q = c.FormValue("account")
	}
	ctx, uid := c.Request().Context(), currentUser(c).ID
	id := q
	if id == "" {
		id = h.currentAccountID(c)
	}
	acc, m, err := h.svc.AccountForUser(ctx, uid, id)
	if err != nil && q == "" && id != "" && billing.ErrorCode(err) == billing.ENotFound {
		h.forgetCurrentAccount(c)
		acc, m, err = h.svc.AccountForUser(ctx, uid, "")
	}
	if err != nil {
		return billing.Account{}, billing.Membership{}, "", err
	}
	if err := h.shellAccount(c, &acc); err != nil {
		return billing.Account{}, billing.Membership{}, "", err
	}
	if err := h.shellMemberships(c, m); err != nil {
		return billing.Account{}, billing.Membership{}, "", err
	}
	return acc, m, q, nil
}

// customerAccountFor is customerAccount for a page or form the role must be allowed: any
// other role gets the not_found billing.Authorize answers (a member guessing an admin URL
// learns nothing).
func (h *Handlers) customerAccountFor(c echo.Context, act billing.TeamAction) (billing.Account, billing.Membership, string, error) {
	acc, m, q, err := h.customerAccount(c)
	if err != nil {
		return acc, m, q, err
	}
	if err := billing.Authorize(m.Role, act); err != nil {
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
