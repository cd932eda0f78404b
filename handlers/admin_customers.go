package handlers

import (
	"net/http"
	"net/url"
	"strconv"

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

// AdminCustomer: GET /admin/customers/:id?before=&action=&model=&from=&to=&cursor= — one
// account with everything about it and the operator's action forms; the ledger starts below
// entry `before`, the usage takes the customer's own filters and cursor.
func (h *Handlers) AdminCustomer(c echo.Context) error {
	v, err := h.adminCustomerView(c)
	if err != nil {
		return err
	}
	if msg := adminNotices[c.QueryParam("done")]; msg != "" {
		v.Notice = pages.Notice{Kind: "success", Text: msg}
	}
	status := http.StatusOK
	if len(v.Usage.Filters.Errors) > 0 {
		status = formStatus
	}
	return render(c, status, pages.AdminCustomer(v))
}

// adminUsageKeys are the usage listing's query parameters, which the ledger's links keep.
var adminUsageKeys = []string{"action", "model", "from", "to", "cursor"}

// adminLedgerQuery reads the ledger's cursor and the usage parameters its links keep.
func adminLedgerQuery(c echo.Context) (before int64, keep url.Values, err error) {
	if s := c.QueryParam("before"); s != "" {
		if before, err = strconv.ParseInt(s, 10, 64); err != nil || before <= 0 {
			return 0, nil, billing.FieldError("before", "This link to older ledger entries is not valid; start again from the newest.")
		}
	}
	keep = url.Values{}
	for _, k := range adminUsageKeys {
		if s := c.QueryParam(k); s != "" {
			keep.Set(k, s)
		}
	}
	return before, keep, nil
}

// adminCustomerView loads the account page's model with a fresh idempotency key for its forms.
func (h *Handlers) adminCustomerView(c echo.Context) (pages.AdminCustomerView, error) {
	id := c.Param("id")
	before, keep, err := adminLedgerQuery(c)
	if err != nil {
		return pages.AdminCustomerView{}, err
	}
	f, fv := usageForm(c, id, "")
	d, err := h.svc.CustomerDetail(c.Request().Context(), id, billing.AccountPageQuery{LedgerBefore: before, Usage: f})
	if err != nil {
		return pages.AdminCustomerView{}, err
	}
	u := usageView(d.Account, fv, d.Usage)
	u.Paths = pages.AdminUsagePaths(id)
	return pages.AdminCustomerView{D: d, Key: randomToken(), LedgerBefore: before, Keep: keep, Usage: u}, nil
}

// AdminCustomerLedger: GET /admin/customers/:id/ledger?before= — the ledger's next rows and
// a new "Older entries" (htmx).
func (h *Handlers) AdminCustomerLedger(c echo.Context) error {
	before, keep, err := adminLedgerQuery(c)
	if err != nil {
		return err
	}
	p, err := h.svc.CustomerLedger(c.Request().Context(), c.Param("id"), before)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.AdminLedgerRows(pages.AdminLedger{AccountID: c.Param("id"), Page: p, Before: before, Keep: keep}, true))
}

// AdminCustomerUsage: GET /admin/customers/:id/usage — the usage listing's next rows and a
// new "load more" (htmx), exactly as the customer's /usage/more answers them.
func (h *Handlers) AdminCustomerUsage(c echo.Context) error {
	id := c.Param("id")
	f, fv := usageForm(c, id, "")
	if len(fv.Errors) > 0 {
		return billing.Errorf(billing.EInvalid, "%s", firstError(fv.Errors))
	}
	l, err := h.svc.UsageListing(c.Request().Context(), f, false)
	if err != nil {
		return err
	}
	u := usageView(billing.Account{ID: id}, fv, l)
	u.Paths = pages.AdminUsagePaths(id)
	return render(c, http.StatusOK, pages.UsageRows(u, true))
}
