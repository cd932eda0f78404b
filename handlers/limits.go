package handlers

import (
	"net/http"
	"net/url"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// Limits: GET /limits — the spend limit against this period's spend, and the pause switch.
func (h *Handlers) Limits(c echo.Context) error {
	acc, m, q, err := h.customerAccount(c)
	if err != nil {
		return err
	}
	v, err := h.limitsView(c, acc, m, q)
	if err != nil {
		return err
	}
	switch c.QueryParam("done") {
	case "limit":
		v.FlashKind, v.Flash = "success", "Spend limit saved."
	case "cleared":
		v.FlashKind, v.Flash = "success", "Spend limit removed: usage is no longer capped by month."
	case "paused":
		v.FlashKind, v.Flash = "success", "Usage is paused: every usage request is refused until you resume."
	case "resumed":
		v.FlashKind, v.Flash = "success", "Usage resumed."
	}
	return render(c, http.StatusOK, pages.LimitsPage(v))
}

// SaveSpendLimit: POST /limits/spend-limit — set or change the limit; the "clear" button
// removes it. Errors re-render the form as typed (422); a member's role is refused (403).
func (h *Handlers) SaveSpendLimit(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageLimits)
	if err != nil {
		return err
	}
	vals := formValues(c, "spend_limit", "spend_limit_mode")
	ch := billing.SpendLimitChange{Clear: c.FormValue("clear") == "yes"}
	done := "cleared"
	if !ch.Clear {
		done = "limit"
		limit, perr := formCredits("spend_limit", vals["spend_limit"])
		switch {
		case perr != nil:
			err = perr
		case limit == nil:
			err = billing.FieldError("spend_limit", "Enter the monthly limit in credits, or use Remove limit.")
		default:
			ch.Credits, ch.Mode = *limit, vals["spend_limit_mode"]
		}
	}
	if err == nil {
		_, err = h.svc.SetCustomerSpendLimit(c.Request().Context(), acc, m.Role, ch, userOp(c))
	}
	return h.limitsResult(c, acc, m, q, vals, done, err)
}

// PauseUsage: POST /limits/pause — paused=yes pauses, paused=no resumes; the first post shows
// a confirmation, the second (confirm=yes) makes the change.
func (h *Handlers) PauseUsage(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageLimits)
	if err != nil {
		return err
	}
	paused := c.FormValue("paused") == "yes"
	if err := billing.Authorize(m.Role, billing.ActManageLimits); err != nil {
		return err
	}
	if !confirmed(c) {
		v, err := h.limitsView(c, acc, m, q)
		if err != nil {
			return err
		}
		v.ConfirmPause = &paused
		return render(c, http.StatusOK, pages.LimitsPage(v))
	}
	_, err = h.svc.SetCustomerPaused(c.Request().Context(), acc, m.Role, paused, userOp(c))
	done := "resumed"
	if paused {
		done = "paused"
	}
	return h.limitsResult(c, acc, m, q, nil, done, err)
}

// limitsResult redirects after success, re-renders the page after a validation error (422)
// or a refused role (403), and passes anything else to the error handler.
func (h *Handlers) limitsResult(c echo.Context, acc billing.Account, m billing.Membership, q string, vals map[string]string, done string, err error) error {
	if err == nil {
		target := url.Values{"done": {done}}
		if q != "" {
			target.Set("account", q)
		}
		return c.Redirect(http.StatusSeeOther, "/limits?"+target.Encode())
	}
	status := formStatus
	switch billing.ErrorCode(err) {
	case billing.EInvalid:
	case billing.EForbidden, billing.EAccountSuspended:
		status = http.StatusForbidden
	default:
		return err
	}
	v, verr := h.limitsView(c, acc, m, q)
	if verr != nil {
		return verr
	}
	v.Values = vals
	v.Errors, v.Flash = fieldErrors(err)
	if v.Flash == "" {
		v.Flash = "Nothing was changed: please correct the form below."
	}
	v.FlashKind = "error"
	return render(c, status, pages.LimitsPage(v))
}

func (h *Handlers) limitsView(c echo.Context, acc billing.Account, m billing.Membership, q string) (pages.LimitsView, error) {
	l, err := h.svc.Limits(c.Request().Context(), acc, m.Role)
	if err != nil {
		return pages.LimitsView{}, err
	}
	return pages.LimitsView{L: l, AccountQ: q}, nil
}
