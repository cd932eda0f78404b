package handlers

import (
	"net/http"
	"net/url"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// Alerts: GET /limits/alerts — the account's alert rules with their channels and state.
func (h *Handlers) Alerts(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageLimits)
	if err != nil {
		return err
	}
	v, err := h.alertsView(c, acc, m, q)
	if err != nil {
		return err
	}
	switch c.QueryParam("done") {
	case "added":
		v.FlashKind, v.Flash = "success", "Rule added."
	case "saved":
		v.FlashKind, v.Flash = "success", "Rule saved."
	case "deleted":
		v.FlashKind, v.Flash = "success", "Rule deleted."
	}
	return render(c, http.StatusOK, pages.AlertsPage(v))
}

// alertForm reads a rule form: kind, threshold, the channel checkboxes and enabled.
func alertForm(c echo.Context) billing.AlertRuleInput {
	in := billing.AlertRuleInput{Kind: c.FormValue("kind"), Threshold: c.FormValue("threshold")}
	form, _ := c.FormParams()
	in.Channels = form["channels"]
	on := c.FormValue("enabled") == "on"
	in.Enabled = &on
	return in
}

// CreateAlert: POST /limits/alerts — adds a rule; a bad field re-renders the form (422).
func (h *Handlers) CreateAlert(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageLimits)
	if err != nil {
		return err
	}
	in := alertForm(c)
	on := true
	in.Enabled = &on
	if _, err := h.svc.CreateCustomerAlertRule(c.Request().Context(), acc.ID, m.Role, in, userOp(c)); err != nil {
		return h.alertFormError(c, acc, m, q, err, "", in)
	}
	return c.Redirect(http.StatusSeeOther, alertsURL(q, "added"))
}

// UpdateAlert: POST /limits/alerts/:id — changes a rule's threshold, channels or enabled.
func (h *Handlers) UpdateAlert(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageLimits)
	if err != nil {
		return err
	}
	in := alertForm(c)
	if _, err := h.svc.UpdateCustomerAlertRule(c.Request().Context(), acc.ID, m.Role, c.Param("id"), in, userOp(c)); err != nil {
		return h.alertFormError(c, acc, m, q, err, c.Param("id"), in)
	}
	return c.Redirect(http.StatusSeeOther, alertsURL(q, "saved"))
}

// DeleteAlert: POST /limits/alerts/:id/delete.
func (h *Handlers) DeleteAlert(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageLimits)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteCustomerAlertRule(c.Request().Context(), acc.ID, m.Role, c.Param("id"), userOp(c)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, alertsURL(q, "deleted"))
}

func (h *Handlers) alertFormError(c echo.Context, acc billing.Account, m billing.Membership, q string, err error, ruleID string, in billing.AlertRuleInput) error {
	if billing.ErrorCode(err) != billing.EInvalid {
		return err
	}
	v, verr := h.alertsView(c, acc, m, q)
	if verr != nil {
		return verr
	}
	v.Errors, v.Flash = fieldErrors(err)
	v.FlashKind, v.ErrorRule, v.Input = "error", ruleID, in
	if v.Flash == "" {
		v.Flash = "Check the highlighted field."
	}
	return render(c, formStatus, pages.AlertsPage(v))
}

func (h *Handlers) alertsView(c echo.Context, acc billing.Account, m billing.Membership, q string) (pages.Alerts, error) {
	rules, err := h.svc.AlertRules(c.Request().Context(), acc.ID)
	if err != nil {
		return pages.Alerts{}, err
	}
	return pages.Alerts{Account: acc, Rules: rules, CanManage: billing.CanManageAccount(m.Role), AccountQ: q,
		Input: billing.AlertRuleInput{Kind: billing.AlertBalanceBelow, Channels: []string{billing.ChannelInApp, billing.ChannelEmail}}}, nil
}

func alertsURL(q, done string) string {
	v := url.Values{"done": {done}}
	if q != "" {
		v.Set("account", q)
	}
	return "/limits/alerts?" + v.Encode()
}

// ShowAlertUnsubscribe: GET /alerts/unsubscribe?token= — what the link turns off, and a
// button to confirm (a mail scanner following the link changes nothing). No sign-in needed.
func (h *Handlers) ShowAlertUnsubscribe(c echo.Context) error {
	token := c.QueryParam("token")
	r, err := h.svc.AlertUnsubscribe(c.Request().Context(), token)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.AlertUnsubscribe(pages.Unsubscribe{Token: token, Rule: r}))
}

// AlertUnsubscribe: POST /alerts/unsubscribe — turns the rule's email channel off.
func (h *Handlers) AlertUnsubscribe(c echo.Context) error {
	r, err := h.svc.ConfirmAlertUnsubscribe(c.Request().Context(), c.FormValue("token"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.AlertUnsubscribe(pages.Unsubscribe{Rule: r, Done: true}))
}
