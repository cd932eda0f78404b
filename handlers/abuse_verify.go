package handlers

import (
	"net/http"

	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// SendVerification: POST /account/verify — mails the signed-in owner or admin a link that
// confirms their email and lets usage resume (abuse review's require_verification).
func (h *Handlers) SendVerification(c echo.Context) error {
	acc, m, _, err := h.customerAccount(c)
	if err != nil {
		return err
	}
	u := currentUser(c)
	if err := h.svc.SendVerificationMail(c.Request().Context(), acc, m, *u, h.siteURL(c)); err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.VerifyAccount(pages.VerifyView{Sent: u.Email}))
}

// ShowVerification: GET /account/verify?token= — the link's page: one button confirms (a GET
// changes nothing, so mail scanners following links verify nobody).
func (h *Handlers) ShowVerification(c echo.Context) error {
	return render(c, http.StatusOK, pages.VerifyAccount(pages.VerifyView{Token: c.QueryParam("token")}))
}

// ConfirmVerification: POST /account/verify/confirm — lifts the pending verification.
func (h *Handlers) ConfirmVerification(c echo.Context) error {
	if _, err := h.svc.ConfirmVerification(c.Request().Context(), c.FormValue("token"), currentUser(c).ID); err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.VerifyAccount(pages.VerifyView{Done: true}))
}
