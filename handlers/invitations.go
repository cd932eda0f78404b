package handlers

import (
	"net/http"
	"net/url"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// maxTokenLen bounds an invitation token read from the path.
const maxTokenLen = 128

// invitation resolves the link's token; an expired, used, revoked or unknown link renders the
// "no longer valid" page (404). The token stays out of logs (web.redactURI) and out of
// Referer headers (no-referrer), like the sign-up link's.
func (h *Handlers) invitation(c echo.Context) (billing.Invitation, string, bool, error) {
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	token := c.Param("token")
	if token == "" || len(token) > maxTokenLen {
		return billing.Invitation{}, "", false, render(c, http.StatusNotFound, pages.InvitationGonePage(""))
	}
	inv, err := h.svc.InvitationByToken(c.Request().Context(), token)
	if billing.ErrorCode(err) == billing.ENotFound {
		return billing.Invitation{}, "", false, render(c, http.StatusNotFound, pages.InvitationGonePage(billing.ErrorMessage(err)))
	}
	if err != nil {
		return billing.Invitation{}, "", false, err
	}
	return inv, token, true, nil
}

// ShowInvitation: GET /invitations/:token — who invites whom to which team, and the next step:
// accept (signed in as the invited email), sign out (signed in as someone else), or sign up
// or sign in (anonymous). Nothing changes on a GET, so a mail scanner accepts nothing.
func (h *Handlers) ShowInvitation(c echo.Context) error {
	inv, token, ok, err := h.invitation(c)
	if !ok {
		return err
	}
	return render(c, http.StatusOK, pages.InvitationPage(h.invitationView(c, inv, token)))
}

func (h *Handlers) invitationView(c echo.Context, inv billing.Invitation, token string) pages.InvitationView {
	v := pages.InvitationView{Inv: inv, Token: token, LoginHref: "/login?" + url.Values{"next": {"/invitations/" + token}}.Encode()}
	if u := currentUser(c); u != nil {
		v.SignedInAs = u.Email
	}
	return v
}

// AcceptInvitation: POST /invitations/:token/accept — the signed-in user (whose email must be
// the invited one; billing checks) joins the team, which becomes their current account.
func (h *Handlers) AcceptInvitation(c echo.Context) error {
	inv, token, ok, err := h.invitation(c)
	if !ok {
		return err
	}
	u := currentUser(c)
	if u == nil {
		return redirectToLogin(c)
	}
	m, err := h.svc.AcceptInvitation(c.Request().Context(), token, u.ID, userOp(c))
	if err != nil {
		if code := billing.ErrorCode(err); code != billing.EForbidden && code != billing.EInvalid && code != billing.EConflict {
			return err
		}
		v := h.invitationView(c, inv, token)
		v.Flash = billing.ErrorMessage(err)
		return render(c, http.StatusForbidden, pages.InvitationPage(v))
	}
	if err := h.setCurrentAccount(c, m.AccountID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/team?done=accepted")
}

// SignUpFromInvitation: POST /invitations/:token/signup — creates the invited person's user
// (the link proves the email), joins the team and signs them in; field errors re-render the
// form (422).
func (h *Handlers) SignUpFromInvitation(c echo.Context) error {
	inv, token, ok, err := h.invitation(c)
	if !ok {
		return err
	}
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/invitations/"+token)
	}
	in := billing.SignUpInput{Name: c.FormValue("name"), Email: inv.Email, Password: c.FormValue("password"), IP: c.RealIP()}
	u, m, err := h.svc.SignUpWithInvitation(c.Request().Context(), token, in, billing.Op{RequestID: c.Response().Header().Get(echo.HeaderXRequestID)})
	if err != nil {
		if billing.ErrorCode(err) != billing.EInvalid {
			return err
		}
		v := h.invitationView(c, inv, token)
		v.Name = in.Name
		v.Errors, v.Flash = fieldErrors(err)
		if msg, ok := v.Errors["email"]; ok {
			v.Flash = msg // the email is the invitation's: no field of the form to show it beside
		}
		return render(c, formStatus, pages.InvitationPage(v))
	}
	if err := h.startSession(c, u.ID); err != nil {
		return err
	}
	if err := h.setCurrentAccount(c, m.AccountID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/team?done=accepted")
}
