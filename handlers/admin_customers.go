package handlers

import (
	"net/http"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// AdminCustomers: GET /admin/customers?q=&before= — the customer search, newest first.
func (h *Handlers) AdminCustomers(c echo.Context) error {
	q := c.QueryParam("q")
	p, err := h.svc.SearchCustomers(c.Request().Context(), billing.CustomerQuery{Q: q, BeforeID: c.QueryParam("before"), Limit: 50})
	v := pages.AdminCustomersView{Q: q, Page: p, Paged: c.QueryParam("before") != ""}
	if err != nil {
		if billing.ErrorCode(err) != billing.EInvalid {
			return err
		}
		v.Errors, _ = fieldErrors(err)
		return render(c, formStatus, pages.AdminCustomers(v))
	}
	return render(c, http.StatusOK, pages.AdminCustomers(v))
}

// adminNotices are the messages shown after an action redirects back to the account page.
var adminNotices = map[string]string{
	"grant":     "Credits granted. The ledger and the audit log below record it.",
	"revoke":    "Credits revoked. The ledger and the audit log below record it.",
	"plan":      "Plan changed. No payment was taken; the new prices apply from the next request.",
	"overdraft": "Overdraft limit saved.",
	"spend":     "Spend limit saved.",
	"status":    "Status changed.",
	"settle":    "Payment recorded: the debt is repaid. The ledger and the audit log below record it.",
}

// AdminCustomer: GET /admin/customers/:id — one account with everything about it and the
// operator's action forms.
func (h *Handlers) AdminCustomer(c echo.Context) error {
	v, err := h.adminCustomerView(c)
	if err != nil {
		return err
	}
	if msg := adminNotices[c.QueryParam("done")]; msg != "" {
		v.Notice = pages.Notice{Kind: "success", Text: msg}
	}
	return render(c, http.StatusOK, pages.AdminCustomer(v))
}

// adminCustomerView loads the account page's model with a fresh idempotency key for its forms.
func (h *Handlers) adminCustomerView(c echo.Context) (pages.AdminCustomerView, error) {
	d, err := h.svc.CustomerDetail(c.Request().Context(), c.Param("id"))
	if err != nil {
		return pages.AdminCustomerView{}, err
	}
	return pages.AdminCustomerView{D: d, Key: randomToken()}, nil
}
