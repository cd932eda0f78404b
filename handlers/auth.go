package handlers

import (
	"net/http"
	"strings"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// safeNext keeps post-login redirects on this site.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") && !strings.HasPrefix(next, "/\\") {
		return next
	}
	return "/"
}

func (h *Handlers) ShowLogin(c echo.Context) error {
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return render(c, http.StatusOK, pages.Login(pages.AuthForm{Next: c.QueryParam("next")}))
}

func (h *Handlers) Login(c echo.Context) error {
	form := pages.AuthForm{Email: strings.TrimSpace(c.FormValue("email")), Next: c.FormValue("next")}
	if ok, _ := h.loginIP.Allow(c.RealIP()); !ok {
		form.Flash = "Too many sign-in attempts from your network. Wait a few minutes and try again."
		return render(c, http.StatusTooManyRequests, pages.Login(form))
	}
	if ok, _ := h.loginEmail.Allow(billing.NormalizeEmail(form.Email)); !ok {
		form.Flash = "Too many sign-in attempts for this email. Wait a few minutes and try again."
		return render(c, http.StatusTooManyRequests, pages.Login(form))
	}
	u, err := h.svc.Authenticate(c.Request().Context(), form.Email, c.FormValue("password"))
	if err != nil {
		if code := billing.ErrorCode(err); code != billing.EInvalid && code != billing.EUnauthenticated {
			return err
		}
		form.Errors, form.Flash = fieldErrors(err)
		return render(c, formStatus, pages.Login(form))
	}
	if err := h.startSession(c, u.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(form.Next))
}

func (h *Handlers) ShowSignup(c echo.Context) error {
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return render(c, http.StatusOK, pages.Signup(pages.AuthForm{}))
}

func (h *Handlers) Signup(c echo.Context) error {
	form := pages.AuthForm{Name: c.FormValue("name"), Email: strings.TrimSpace(c.FormValue("email"))}
	if ok, _ := h.signupIP.Allow(c.RealIP()); !ok {
		form.Flash = "Too many sign-ups from your network. Try again later."
		return render(c, http.StatusTooManyRequests, pages.Signup(form))
	}
	if ok, _ := h.loginEmail.Allow(billing.NormalizeEmail(form.Email)); !ok {
		form.Flash = "Too many attempts for this email. Wait a few minutes and try again."
		return render(c, http.StatusTooManyRequests, pages.Signup(form))
	}
	u, _, err := h.svc.SignUp(c.Request().Context(), billing.SignUpInput{Name: form.Name, Email: form.Email, Password: c.FormValue("password")})
	if err != nil {
		if billing.ErrorCode(err) != billing.EInvalid {
			return err
		}
		form.Errors, form.Flash = fieldErrors(err)
		return render(c, formStatus, pages.Signup(form))
	}
	if err := h.startSession(c, u.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

func (h *Handlers) Logout(c echo.Context) error {
	if err := h.endSession(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}
