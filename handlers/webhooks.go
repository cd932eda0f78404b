package handlers

import (
	"fmt"
	"io"
	"net/http"

	"creditline/billing"
	"github.com/labstack/echo/v4"
)

// WebhookParser verifies a provider webhook and reduces it to a billing event
// (payments.Webhooks). Errors: invalid_request for a bad or stale signature.
type WebhookParser interface {
	Parse(payload []byte, header string) (billing.PaymentEvent, error)
}

// StripeWebhook verifies the signature (400 and nothing changes when it fails), then has
// billing process the event once. A processing failure answers 500 so Stripe retries.
func (h *Handlers) StripeWebhook(c echo.Context) error {
	if h.webhooks == nil {
		return &billing.Error{Code: billing.ENotFound, Message: "Stripe webhooks are not configured (set STRIPE_WEBHOOK_SECRET)."}
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return bodyError(err)
	}
	ev, err := h.webhooks.Parse(body, c.Request().Header.Get("Stripe-Signature"))
	if err != nil {
		return err
	}
	res, err := h.svc.ProcessPaymentEvent(c.Request().Context(), ev)
	if err != nil {
		// Not a *billing.Error any more: the error handler logs it and answers 500, so Stripe retries.
		return fmt.Errorf("webhook %s (%s): %v", ev.ID, ev.Type, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"received": true, "id": ev.ID, "outcome": res.Outcome, "replayed": res.Replayed})
}
