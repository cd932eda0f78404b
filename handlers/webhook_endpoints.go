package handlers

import (
	"net/http"
	"net/url"

	"creditline/billing"
	"creditline/billing/webhooks"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// Webhooks: GET /limits/webhooks — the account's endpoints and the add form.
func (h *Handlers) Webhooks(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageLimits)
	if err != nil {
		return err
	}
	v, err := h.webhooksView(c, acc, m, q)
	if err != nil {
		return err
	}
	switch c.QueryParam("done") {
	case "deleted":
		v.FlashKind, v.Flash = "success", "Endpoint deleted: no more events go to it."
	case "tested":
		v.FlashKind, v.Flash = "success", "Test event queued: see it in the endpoint's delivery log."
	}
	return render(c, http.StatusOK, pages.WebhooksPage(v))
}

// CreateWebhookEndpoint: POST /limits/webhooks — adds an endpoint and shows its secret this
// once; a bad URL or event re-renders the form with the error beside the field (422).
func (h *Handlers) CreateWebhookEndpoint(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageLimits)
	if err != nil {
		return err
	}
	form, _ := c.FormParams()
	in := webhooks.EndpointInput{URL: c.FormValue("url"), Events: form["events"]}
	e, err := h.hooks.CreateEndpoint(c.Request().Context(), acc.ID, m.Role, in, userOp(c))
	if err != nil && billing.ErrorCode(err) != billing.EInvalid {
		return err
	}
	v, verr := h.webhooksView(c, acc, m, q)
	if verr != nil {
		return verr
	}
	if err != nil {
		v.URL, v.Events = in.URL, in.Events
		v.Errors, v.Flash = fieldErrors(err)
		v.FlashKind = "error"
		return render(c, formStatus, pages.WebhooksPage(v))
	}
	v.New = &e
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusOK, pages.WebhooksPage(v))
}

// DeleteWebhookEndpoint: POST /limits/webhooks/:id/delete.
func (h *Handlers) DeleteWebhookEndpoint(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageLimits)
	if err != nil {
		return err
	}
	if err := h.hooks.DeleteEndpoint(c.Request().Context(), acc.ID, m.Role, c.Param("id"), userOp(c)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, webhooksURL(q, "/limits/webhooks", "deleted"))
}

// SendWebhookTest: POST /limits/webhooks/:id/test — queues a webhook.test event.
func (h *Handlers) SendWebhookTest(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageLimits)
	if err != nil {
		return err
	}
	if _, err := h.hooks.SendTest(c.Request().Context(), acc.ID, m.Role, c.Param("id"), userOp(c)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, webhooksURL(q, "/limits/webhooks/"+c.Param("id"), "tested"))
}

// WebhookDeliveries: GET /limits/webhooks/:id — one endpoint's delivery log.
func (h *Handlers) WebhookDeliveries(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageLimits)
	if err != nil {
		return err
	}
	e, ds, err := h.hooks.Log(c.Request().Context(), acc.ID, c.Param("id"), 50)
	if err != nil {
		return err
	}
	v := pages.WebhookLog{Account: acc, AccountQ: q, Endpoint: e, Deliveries: ds, CanManage: billing.CanManageAccount(m.Role)}
	switch c.QueryParam("done") {
	case "tested":
		v.FlashKind, v.Flash = "success", "Test event queued: it is sent within seconds; reload to see the answer."
	case "resent":
		v.FlashKind, v.Flash = "success", "Sent again as a new delivery of the same event."
	}
	return render(c, http.StatusOK, pages.WebhookLogPage(v))
}

// ResendWebhookDelivery: POST /limits/webhooks/deliveries/:id/resend — "Send again".
func (h *Handlers) ResendWebhookDelivery(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageLimits)
	if err != nil {
		return err
	}
	d, err := h.hooks.SendAgain(c.Request().Context(), acc.ID, m.Role, c.Param("id"), userOp(c))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, webhooksURL(q, "/limits/webhooks/"+d.EndpointID, "resent"))
}

func (h *Handlers) webhooksView(c echo.Context, acc billing.Account, m billing.Membership, q string) (pages.Webhooks, error) {
	es, err := h.hooks.Endpoints(c.Request().Context(), acc.ID)
	if err != nil {
		return pages.Webhooks{}, err
	}
	return pages.Webhooks{Account: acc, AccountQ: q, Endpoints: es, CanManage: billing.CanManageAccount(m.Role)}, nil
}

func webhooksURL(q, path, done string) string {
	v := url.Values{"done": {done}}
	if q != "" {
		v.Set("account", q)
	}
	return path + "?" + v.Encode()
}
