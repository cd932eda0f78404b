package handlers

import (
	"net/http"
	"strings"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// notices are the messages a redirect back to /billing carries in ?notice= (or Stripe's ?checkout=).
var notices = map[string]pages.Notice{
	"paid-test":     {Kind: "success", Text: "Paid in test mode: no money moved, and your credits are in."},
	"success":       {Kind: "success", Text: "Thank you. Your credits appear here as soon as Stripe confirms the payment, usually within seconds."},
	"cancelled":     {Kind: "info", Text: "Checkout cancelled: nothing was charged."},
	"saved":         {Kind: "success", Text: "Auto-recharge settings saved."},
	"renewed":       {Kind: "success", Text: "Renewed in test mode: the next period's invoice was paid and its credits granted."},
	"sub-cancelled": {Kind: "success", Text: "Subscription cancelled in test mode: you are back on the Free plan."},
	"recharged":     {Kind: "success", Text: "Payment confirmed: the auto-recharge credits are in."},
	"test":          {Kind: "info", Text: "The Stripe customer portal is not available in test mode: no card is on file with Stripe. Use the test buttons under Plans to renew or cancel."},
}

func (h *Handlers) billingView(c echo.Context) (pages.BillingView, error) {
	o, err := h.svc.BillingOverview(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return pages.BillingView{}, err
	}
	if err := h.shellAccount(c, &o.Account); err != nil {
		return pages.BillingView{}, err
	}
	v := pages.BillingView{O: o, Form: billing.AutoRechargeFormOf(o.AutoRecharge)}
	q := c.QueryParam("notice")
	if q == "" {
		q = c.QueryParam("checkout")
	}
	if c.QueryParam("portal") == "test" {
		q = "test"
	}
	if q == "success" && o.TestMode {
		q = "paid-test"
	}
	v.Notice = notices[q]
	return v, nil
}

// ShowBilling is the billing page: packs, plans, auto-recharge, grants, payments.
func (h *Handlers) ShowBilling(c echo.Context) error {
	if _, err := h.authorizeBilling(c); err != nil {
		return err
	}
	v, err := h.billingView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.BillingPage(v))
}

// StartCheckout sends the customer to Checkout (or the portal, for a plan change).
func (h *Handlers) StartCheckout(c echo.Context) error {
	if _, err := h.authorizeBilling(c); err != nil {
		return err
	}
	start, err := h.svc.StartCheckoutFrom(c.Request().Context(), currentUser(c).ID, c.FormValue("kind"), c.FormValue("key"), c.FormValue("currency"), c.RealIP())
	if err != nil {
		return h.billingError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, start.URL)
}

// Portal opens the Stripe customer portal.
func (h *Handlers) Portal(c echo.Context) error {
	if _, err := h.authorizeBilling(c); err != nil {
		return err
	}
	url, err := h.svc.PortalURL(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return h.billingError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, url)
}

// SaveAutoRecharge stores the settings or re-renders the page with errors beside the fields.
func (h *Handlers) SaveAutoRecharge(c echo.Context) error {
	if _, err := h.authorizeBilling(c); err != nil {
		return err
	}
	form := billing.AutoRechargeForm{Enabled: c.FormValue("enabled") == "on", Threshold: c.FormValue("threshold"),
		PackKey: c.FormValue("pack"), CapCount: c.FormValue("cap_count"), CapAmount: c.FormValue("cap_amount")}
	_, err := h.svc.SaveAutoRecharge(c.Request().Context(), currentUser(c).ID, form)
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/billing?notice=saved#auto-recharge")
	}
	if billing.ErrorCode(err) != billing.EInvalid {
		return err
	}
	v, verr := h.billingView(c)
	if verr != nil {
		return verr
	}
	v.Form = form
	v.Errors, _ = fieldErrors(err)
	v.Notice = pages.Notice{Kind: "error", Text: "Auto-recharge was not saved: please correct the fields below."}
	return render(c, formStatus, pages.BillingPage(v))
}

// billingError re-renders the billing page with the message of an expected error.
func (h *Handlers) billingError(c echo.Context, err error) error {
	if code := billing.ErrorCode(err); code != billing.EInvalid {
		return err
	}
	v, verr := h.billingView(c)
	if verr != nil {
		return verr
	}
	v.Notice = pages.Notice{Kind: "error", Text: billing.ErrorMessage(err)}
	return render(c, formStatus, pages.BillingPage(v))
}

// Receipt redirects to Stripe's receipt, or shows the test-mode receipt.
func (h *Handlers) Receipt(c echo.Context) error {
	acc, err := h.authorizeBilling(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := h.svc.PaymentForUser(ctx, currentUser(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	url, err := h.svc.ReceiptURL(ctx, p)
	if err != nil {
		return err
	}
	if url != "" {
		return c.Redirect(http.StatusSeeOther, url)
	}
	return render(c, http.StatusOK, pages.TestReceiptPage(pages.ReceiptView{Payment: p, Account: acc}))
}

// ShowRecharge is where a notification about an auto-recharge needing the customer leads.
func (h *Handlers) ShowRecharge(c echo.Context) error {
	if _, err := h.authorizeBilling(c); err != nil {
		return err
	}
	ctx := c.Request().Context()
	r, err := h.svc.RechargeForUser(ctx, currentUser(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.RechargePage(pages.RechargeView{Recharge: r, TestMode: h.svc.PaymentsTestMode()}))
}

// FinishRecharge completes an SCA-blocked recharge: in test mode at once, with Stripe on session.
func (h *Handlers) FinishRecharge(c echo.Context) error {
	if _, err := h.authorizeBilling(c); err != nil {
		return err
	}
	ctx, uid, id := c.Request().Context(), currentUser(c).ID, c.Param("id")
	if h.svc.PaymentsTestMode() {
		if err := h.svc.CompleteTestRecharge(ctx, uid, id); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/billing?notice=recharged")
	}
	url, err := h.svc.FinishRecharge(ctx, uid, id)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, url)
}

// TestSubscription renews or cancels the subscription in test mode only.
func (h *Handlers) TestSubscription(c echo.Context) error {
	if _, err := h.authorizeBilling(c); err != nil {
		return err
	}
	ctx, uid := c.Request().Context(), currentUser(c).ID
	var err error
	notice := "renewed"
	switch strings.TrimSpace(c.FormValue("action")) {
	case "renew":
		err = h.svc.RenewTestSubscription(ctx, uid)
	case "cancel":
		err, notice = h.svc.CancelTestSubscription(ctx, uid), "sub-cancelled"
	default:
		err = billing.Errorf(billing.EInvalid, "Choose renew or cancel.")
	}
	if err != nil {
		return h.billingError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/billing?notice="+notice+"#plans")
}

// authorizeBilling refuses (404) the billing pages and forms to a role that may not buy in the
// current account, and points the billing methods at that account (billing.InAccount, which
// checks the role again).
func (h *Handlers) authorizeBilling(c echo.Context) (billing.Account, error) {
	acc, _, _, err := h.customerAccountFor(c, billing.ActBuy)
	if err != nil {
		return billing.Account{}, err
	}
	c.SetRequest(c.Request().WithContext(billing.InAccount(c.Request().Context(), acc.ID)))
	return acc, nil
}
