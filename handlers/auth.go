package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// safeNext keeps post-login redirects on this site: it returns next when it is a same-origin
// path (checked as sent and once percent-decoded), else "/".
func safeNext(next string) string {
	if len(next) > 2048 || !sameOriginPath(next) {
		return "/"
	}
	dec, err := url.PathUnescape(next)
	if err != nil || !sameOriginPath(dec) {
		return "/"
	}
	return next
}

// sameOriginPath: one leading slash, never "//" or "/\" (browsers read both as another host),
// no backslash or control character anywhere (browsers drop tabs and newlines, turn \ into /),
// and net/url sees neither scheme nor host.
func sameOriginPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') {
		return false
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == ""
}

func (h *Handlers) ShowLogin(c echo.Context) error {
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	next := c.QueryParam("next")
	if safeNext(next) == "/" {
		next = "" // an unsafe target is not even carried into the form
	}
	return render(c, http.StatusOK, pages.Login(pages.AuthForm{Next: next}))
}

func (h *Handlers) Login(c echo.Context) error {
	form := pages.AuthForm{Email: strings.TrimSpace(c.FormValue("email")), Next: c.FormValue("next")}
	if safeNext(form.Next) == "/" {
		form.Next = ""
	}
	ip, email := clientKey(c), billing.NormalizeEmail(form.Email)
	if wait := h.login.reserve(ip, email); wait > 0 {
		return tooManyLogins(c, form, wait)
	}
	u, err := h.svc.Authenticate(c.Request().Context(), form.Email, c.FormValue("password"))
	if err != nil {
		code := billing.ErrorCode(err)
		if code != billing.EUnauthenticated {
			h.login.undo(ip, email) // no password was checked
		}
		if code != billing.EInvalid && code != billing.EUnauthenticated {
			return err
		}
		form.Errors, form.Flash = fieldErrors(err)
		return render(c, formStatus, pages.Login(form))
	}
	h.login.succeed(ip, email)
	if err := h.startSession(c, u.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(form.Next))
}

// tooManyLogins tells the visitor how long to wait, in words and in Retry-After.
func tooManyLogins(c echo.Context, form pages.AuthForm, wait time.Duration) error {
	secs := ceilSeconds(wait)
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	form.Flash = fmt.Sprintf("Too many failed sign-ins. Wait %s and try again.", waitWords(secs))
	return render(c, http.StatusTooManyRequests, pages.Login(form))
}

func ceilSeconds(d time.Duration) int { return int((d + time.Second - 1) / time.Second) }

func waitWords(secs int) string {
	switch {
	case secs == 1:
		return "1 second"
	case secs < 120:
		return fmt.Sprintf("%d seconds", secs)
	default:
		return fmt.Sprintf("%d minutes", (secs+59)/60)
	}
}

func (h *Handlers) ShowSignup(c echo.Context) error {
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return render(c, http.StatusOK, pages.Signup(pages.AuthForm{}))
}

// Signup answers alike for a new and a registered email: "check your mail" (SPEC 9).
func (h *Handlers) Signup(c echo.Context) error {
	form := pages.AuthForm{Name: c.FormValue("name"), Email: strings.TrimSpace(c.FormValue("email"))}
	ip := clientKey(c)
	if ok, _ := h.signupIP.Allow(ip); !ok {
		form.Flash = "Too many sign-ups from your network. Try again later."
		return render(c, http.StatusTooManyRequests, pages.Signup(form))
	}
	if ok, _ := h.signupEmail.Allow(ip + "|" + billing.NormalizeEmail(form.Email)); !ok {
		form.Flash = "Too many attempts for this email. Try again later."
		return render(c, http.StatusTooManyRequests, pages.Signup(form))
	}
	in := billing.SignUpInput{Name: form.Name, Email: form.Email, Password: c.FormValue("password")}
	if err := h.svc.RequestSignUpWithin(c.Request().Context(), in, h.siteURL(c), h.signupMail); err != nil {
		if billing.ErrorCode(err) != billing.EInvalid {
			return err
		}
		form.Errors, form.Flash = fieldErrors(err)
		return render(c, formStatus, pages.Signup(form))
	}
	return render(c, http.StatusOK, pages.SignupSent(billing.NormalizeEmail(form.Email)))
}

// siteURL is the base of links in mail: BASE_URL, or this request's origin when unset.
func (h *Handlers) siteURL(c echo.Context) string {
	if h.baseURL != "" {
		return strings.TrimRight(h.baseURL, "/")
	}
	return c.Scheme() + "://" + c.Request().Host
}

// ShowConfirmSignup asks for the password chosen at sign-up; the link is used only by the POST,
// so a mail scanner fetching it creates nothing.
func (h *Handlers) ShowConfirmSignup(c echo.Context) error {
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	return render(c, http.StatusOK, pages.SignupConfirm(pages.ConfirmForm{Token: c.QueryParam("token")}))
}

func (h *Handlers) ConfirmSignup(c echo.Context) error {
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	form := pages.ConfirmForm{Token: c.FormValue("token")}
	u, err := h.svc.CompleteSignUpFrom(c.Request().Context(), form.Token, c.FormValue("password"), c.RealIP())
	if err != nil {
		if billing.ErrorCode(err) != billing.EInvalid {
			return err
		}
		form.Errors, form.Flash = fieldErrors(err)
		return render(c, formStatus, pages.SignupConfirm(form))
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
