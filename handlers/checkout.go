package handlers

import (
	"net/http"

	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// ShowTestCheckout is test mode's stand-in for Stripe Checkout; it says no money moves.
func (h *Handlers) ShowTestCheckout(c echo.Context) error {
	if _, err := h.authorizeBilling(c); err != nil {
		return err
	}
	ctx, uid := c.Request().Context(), currentUser(c).ID
	if !h.svc.PaymentsTestMode() {
		return echo.ErrNotFound
	}
	rec, err := h.svc.CheckoutForUser(ctx, uid, c.Param("id"))
	if err != nil {
		return err
	}
	v := pages.CheckoutView{Session: rec}
	switch rec.Kind {
	case "pack":
		if p, err := h.svc.Pack(ctx, rec.ItemKey); err == nil {
			v.Title, v.Credits = p.Name+" pack", p.GrantCredits()
		}
	case "plan":
		if p, err := h.svc.Plan(ctx, rec.ItemKey); err == nil {
			v.Title, v.Credits, v.Monthly = p.Name+" plan", p.CreditsPerPeriod, true
		}
	}
	return render(c, http.StatusOK, pages.TestCheckoutPage(v))
}

// PayTestCheckout runs the same fulfilment as Stripe's webhooks, then returns to billing.
func (h *Handlers) PayTestCheckout(c echo.Context) error {
	if _, err := h.authorizeBilling(c); err != nil {
		return err
	}
	if err := h.svc.CompleteTestCheckout(c.Request().Context(), currentUser(c).ID, c.Param("id")); err != nil {
		return h.billingError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/billing?checkout=success")
}
