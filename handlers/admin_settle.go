package handlers

import (
	"strings"

	"creditline/billing"
	"github.com/labstack/echo/v4"
)

// AdminSettleDebt: POST /admin/customers/:id/settle — records an invoiced payment that repays
// the overdraft drawn; confirmed first, idempotent on the form's key, audited.
func (h *Handlers) AdminSettleDebt(c echo.Context) error {
	vals := formValues(c, "credits", "paid_amount", "currency", "reference", "reason", "idempotency_key")
	in := billing.SettleDebtInput{AccountID: c.Param("id"), Currency: vals["currency"], Reference: vals["reference"], Op: adminOp(c)}
	var v billing.Validation
	credits, err := formCredits("credits", vals["credits"])
	if err != nil {
		v.Add("credits", "%s", billing.ErrorMessage(err))
	}
	in.Credits = credits
	if paid, err := billing.ParseAmount(vals["paid_amount"]); err != nil {
		v.Add("paid_amount", "Enter the amount received, e.g. 250.00.")
	} else {
		in.PaidAmount = paid
	}
	if err := v.Err(); err != nil {
		return h.adminFormResult(c, "settle", vals, err)
	}
	if !confirmed(c) {
		p, err := h.svc.PreviewSettleDebt(c.Request().Context(), in)
		if err != nil {
			return h.adminFormResult(c, "settle", vals, err)
		}
		vals["credits"] = p.Credits.String() // the confirmed amount is the one shown
		return h.adminConfirm(c, "settle", vals, []string{
			"Record " + billing.FormatMoney(in.PaidAmount, in.Currency) + " received and grant " + p.Credits.Display() + " credits (adjustment).",
			"It repays the debt of " + p.Debt.Display() + " credits; the balance becomes " + p.BalanceAfter.Display() + ".",
			"Reason: " + strings.TrimSpace(in.Op.Reason)})
	}
	_, err = h.svc.SettleDebt(c.Request().Context(), in)
	return h.adminFormResult(c, "settle", vals, err)
}
