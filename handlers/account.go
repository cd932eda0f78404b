package handlers

import (
	"net/http"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

func (h *Handlers) ShowChangePassword(c echo.Context) error {
	return render(c, http.StatusOK, pages.ChangePassword(pages.PasswordForm{Done: c.QueryParam("changed") == "1"}))
}

// ChangePassword ends every other session of the user; this browser gets a new one.
func (h *Handlers) ChangePassword(c echo.Context) error {
	u := currentUser(c)
	ip := clientKey(c)
	var form pages.PasswordForm
	if wait := h.login.reserve(ip, u.Email); wait > 0 {
		form.Flash = "Too many wrong passwords. Wait " + waitWords(ceilSeconds(wait)) + " and try again."
		return render(c, http.StatusTooManyRequests, pages.ChangePassword(form))
	}
	in := billing.ChangePasswordInput{Current: c.FormValue("current_password"), New: c.FormValue("new_password"), Confirm: c.FormValue("confirm_password")}
	sid, err := h.svc.ChangePassword(c.Request().Context(), u.ID, in, client(c))
	if err != nil {
		form.Errors, form.Flash = fieldErrors(err)
		// A wrong current password keeps its reserved attempt: a stolen session must not
		// become a password oracle. Anything else checked no password, or the right one.
		if _, wrong := form.Errors["current_password"]; !wrong || in.Current == "" || billing.ErrorCode(err) != billing.EInvalid {
			h.login.undo(ip, u.Email)
		}
		if billing.ErrorCode(err) != billing.EInvalid {
			return err
		}
		return render(c, formStatus, pages.ChangePassword(form))
	}
	h.login.undo(ip, u.Email)
	if err := h.useSession(c, u.ID, sid); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account/password?changed=1")
}
