package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// The account page's action forms. Each carries the reason and a hidden idempotency key
// (a double submit is one action); grant and revoke show a confirmation first. Errors
// re-render the page with the form as typed (422); success redirects back with a notice.

// adminOp is the audit identity of a console request.
func adminOp(c echo.Context) billing.Op {
	return billing.Op{Actor: billing.UserActor(currentUser(c).ID), RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
		Reason: c.FormValue("reason"), IdempotencyKey: strings.TrimSpace(c.FormValue("idempotency_key"))}
}

// formValues keeps what the operator typed, to re-render or confirm it.
func formValues(c echo.Context, names ...string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		out[n] = c.FormValue(n)
	}
	return out
}

// formCredits parses an optional credits field ("" gives nil).
func formCredits(field, s string) (*billing.Credits, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if s == "" {
		return nil, nil
	}
	v, err := billing.ParseCredits(s)
	if err != nil {
		return nil, billing.FieldError(field, "Enter a number of credits such as 25 or 12.5 (at most 3 decimals).")
	}
	return &v, nil
}

// adminFormResult redirects after success, re-renders the form after a validation error
// (422) and passes anything else to the error handler.
func (h *Handlers) adminFormResult(c echo.Context, form string, values map[string]string, err error) error {
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/admin/customers/"+c.Param("id")+"?done="+form)
	}
	switch billing.ErrorCode(err) {
	case billing.EInvalid, billing.EIdempotencyConflict:
	default:
		return err
	}
	v, verr := h.adminCustomerView(c)
	if verr != nil {
		return verr
	}
	v.Form, v.Values = form, values
	if k := values["idempotency_key"]; k != "" && billing.ErrorCode(err) == billing.EInvalid {
		v.Key = k // nothing was done with it: the corrected form keeps it
	}
	fields, msg := fieldErrors(err)
	v.Errors = fields
	if msg != "" {
		v.Notice = pages.Notice{Kind: "error", Text: msg}
	} else {
		v.Notice = pages.Notice{Kind: "error", Text: "Nothing was changed: please correct the form below."}
	}
	return render(c, formStatus, pages.AdminCustomer(v))
}

// confirmed says whether a money form came back from its confirmation step.
func confirmed(c echo.Context) bool { return c.FormValue("confirm") == "yes" }

// AdminGrant: POST /admin/customers/:id/grant — an adjustment or promo grant.
func (h *Handlers) AdminGrant(c echo.Context) error {
	vals := formValues(c, "credits", "source", "expires_at", "priority", "reason", "idempotency_key")
	in := billing.GrantInput{AccountID: c.Param("id"), Source: vals["source"], IdempotencyKey: "console:" + vals["idempotency_key"]}
	var v billing.Validation
	amount, err := formCredits("credits", vals["credits"])
	switch {
	case err != nil:
		v.Add("credits", "%s", billing.ErrorMessage(err))
	case amount == nil:
		v.Add("credits", "Enter how many credits to grant.")
	default:
		in.Amount = *amount
	}
	if s := strings.TrimSpace(vals["expires_at"]); s != "" {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			v.Add("expires_at", "Enter a date (YYYY-MM-DD) or leave it empty for never.")
		}
		in.ExpiresAt = &t
	}
	if s := strings.TrimSpace(vals["priority"]); s != "" {
		p, err := strconv.Atoi(s)
		if err != nil {
			v.Add("priority", "Enter a whole number from 0 to 1000, or leave it empty for the default.")
		}
		in.Priority = &p
	}
	if vals["idempotency_key"] == "" {
		v.Add("idempotency_key", "The form is missing its key; reload the page.")
	}
	if err := v.Err(); err != nil {
		return h.adminFormResult(c, "grant", vals, err)
	}
	op := adminOp(c)
	if !confirmed(c) {
		if err := h.svc.PreviewGrant(in, op); err != nil {
			return h.adminFormResult(c, "grant", vals, err)
		}
		return h.adminConfirm(c, "grant", vals, []string{
			"Grant " + in.Amount.Display() + " credits (" + in.Source + ") to this account.",
			"Reason: " + strings.TrimSpace(op.Reason)})
	}
	_, err = h.svc.AdminGrant(c.Request().Context(), in, op)
	return h.adminFormResult(c, "grant", vals, err)
}

// AdminRevoke: POST /admin/customers/:id/revoke — part or all of what remains of a grant.
func (h *Handlers) AdminRevoke(c echo.Context) error {
	vals := formValues(c, "grant", "credits", "reason", "idempotency_key")
	credits, err := formCredits("credits", vals["credits"])
	if err != nil {
		return h.adminFormResult(c, "revoke", vals, err)
	}
	in := billing.RevokeGrantInput{AccountID: c.Param("id"), GrantID: vals["grant"], Credits: credits, Op: adminOp(c)}
	if !confirmed(c) {
		p, err := h.svc.PreviewRevoke(c.Request().Context(), in)
		if err != nil {
			return h.adminFormResult(c, "revoke", vals, err)
		}
		return h.adminConfirm(c, "revoke", vals, []string{
			"Revoke " + p.Revoked.Display() + " of the " + p.Grant.Remaining.Display() + " credits left on grant " + p.Grant.ID + " (" + p.Grant.Source + ").",
			"Reason: " + strings.TrimSpace(in.Op.Reason)})
	}
	_, err = h.svc.RevokeGrant(c.Request().Context(), in)
	return h.adminFormResult(c, "revoke", vals, err)
}

func (h *Handlers) adminConfirm(c echo.Context, form string, vals map[string]string, lines []string) error {
	v, err := h.adminCustomerView(c)
	if err != nil {
		return err
	}
	v.Confirm = &pages.AdminConfirm{Form: form, Lines: lines, Values: vals}
	return render(c, http.StatusOK, pages.AdminCustomer(v))
}

// AdminSetPlan: POST /admin/customers/:id/plan — a plan without payment (invoiced customers).
func (h *Handlers) AdminSetPlan(c echo.Context) error {
	vals := formValues(c, "plan", "reason", "idempotency_key")
	plan := vals["plan"]
	_, err := h.svc.UpdateAccount(c.Request().Context(), billing.AccountUpdate{AccountID: c.Param("id"), Plan: &plan, Op: adminOp(c)})
	return h.adminFormResult(c, "plan", vals, err)
}

// AdminSetOverdraft: POST /admin/customers/:id/overdraft — the credit line.
func (h *Handlers) AdminSetOverdraft(c echo.Context) error {
	vals := formValues(c, "overdraft_limit", "reason", "idempotency_key")
	limit, err := formCredits("overdraft_limit", vals["overdraft_limit"])
	if err == nil && limit == nil {
		err = billing.FieldError("overdraft_limit", "Enter the limit in credits (0 for none).")
	}
	if err != nil {
		return h.adminFormResult(c, "overdraft", vals, err)
	}
	_, err = h.svc.UpdateAccount(c.Request().Context(), billing.AccountUpdate{AccountID: c.Param("id"), OverdraftLimit: limit, Op: adminOp(c)})
	return h.adminFormResult(c, "overdraft", vals, err)
}

// AdminSetSpendLimit: POST /admin/customers/:id/spend-limit — an empty amount clears it.
func (h *Handlers) AdminSetSpendLimit(c echo.Context) error {
	vals := formValues(c, "spend_limit", "spend_limit_mode", "reason", "idempotency_key")
	limit, err := formCredits("spend_limit", vals["spend_limit"])
	if err != nil {
		return h.adminFormResult(c, "spend", vals, err)
	}
	ch := &billing.SpendLimitChange{Clear: true}
	if limit != nil {
		ch = &billing.SpendLimitChange{Credits: *limit, Mode: vals["spend_limit_mode"]}
	}
	_, err = h.svc.UpdateAccount(c.Request().Context(), billing.AccountUpdate{AccountID: c.Param("id"), SpendLimit: ch, Op: adminOp(c)})
	return h.adminFormResult(c, "spend", vals, err)
}

// AdminSetStatus: POST /admin/customers/:id/status — suspend (the reason is shown to the
// customer), reinstate, pause.
func (h *Handlers) AdminSetStatus(c echo.Context) error {
	vals := formValues(c, "status", "reason", "idempotency_key")
	status := vals["status"]
	_, err := h.svc.UpdateAccount(c.Request().Context(), billing.AccountUpdate{AccountID: c.Param("id"), Status: &status, Op: adminOp(c)})
	return h.adminFormResult(c, "status", vals, err)
}
