package handlers

import (
	"net/http"
	"strings"

	"creditline/billing"
	"creditline/views"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// maxIDLen bounds an id read from a form before it reaches the service.
const maxIDLen = 64

// currentAccountID is the account the switcher made current in this session ("" for none).
func (h *Handlers) currentAccountID(c echo.Context) string {
	id, _ := h.session(c).Values[keyAcc].(string)
	return id
}

// setCurrentAccount remembers the current account in the session.
func (h *Handlers) setCurrentAccount(c echo.Context, accountID string) error {
	h.session(c).Values[keyAcc] = accountID
	return h.saveSession(c)
}

// forgetCurrentAccount drops a current account the user no longer belongs to; a failed save
// only means the fallback runs again on the next page.
func (h *Handlers) forgetCurrentAccount(c echo.Context) {
	delete(h.session(c).Values, keyAcc)
	_ = h.saveSession(c)
}

// shellMemberships hands the layout the user's accounts (the switcher) and their role in the
// current one (the navigation leaves out what the role may not use).
func (h *Handlers) shellMemberships(c echo.Context, m billing.Membership) error {
	ms, err := h.svc.Memberships(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return err
	}
	req := views.Req(c.Request().Context())
	req.Accounts, req.Role = ms, m.Role
	return nil
}

// SwitchAccount: POST /accounts/switch — makes one of the user's accounts the current one for
// every page of this session; an account not theirs is a 404.
func (h *Handlers) SwitchAccount(c echo.Context) error {
	id := strings.TrimSpace(c.FormValue("account"))
	if id == "" || len(id) > maxIDLen {
		return billing.Errorf(billing.ENotFound, "No such account.")
	}
	acc, _, err := h.svc.AccountForUser(c.Request().Context(), currentUser(c).ID, id)
	if err != nil {
		return err
	}
	if err := h.setCurrentAccount(c, acc.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// ShowNewTeam: GET /teams/new — the form that creates a team account.
func (h *Handlers) ShowNewTeam(c echo.Context) error {
	if _, _, _, err := h.customerAccount(c); err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.NewTeamPage(pages.NewTeamForm{}))
}

// CreateTeam: POST /teams — creates a team account owned by the user and switches to it; a bad
// name re-renders the form with the message beside the field (422, swapped by htmx).
func (h *Handlers) CreateTeam(c echo.Context) error {
	form := pages.NewTeamForm{Name: c.FormValue("name")}
	acc, err := h.svc.CreateTeam(c.Request().Context(), currentUser(c).ID, strings.TrimSpace(form.Name), userOp(c))
	if err != nil {
		if billing.ErrorCode(err) != billing.EInvalid {
			return err
		}
		if _, _, _, aerr := h.customerAccount(c); aerr != nil {
			return aerr
		}
		form.Errors, form.Flash = fieldErrors(err)
		if c.Request().Header.Get("HX-Request") == "true" {
			return render(c, formStatus, pages.NewTeamFormPart(form))
		}
		return render(c, formStatus, pages.NewTeamPage(form))
	}
	if err := h.setCurrentAccount(c, acc.ID); err != nil {
		return err
	}
	return hxRedirect(c, "/team?done=created")
}

// hxRedirect sends the browser to target after a form: htmx follows HX-Redirect with a full
// page load; a plain form gets a 303.
func hxRedirect(c echo.Context, target string) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", target)
		return c.NoContent(http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, target)
}
