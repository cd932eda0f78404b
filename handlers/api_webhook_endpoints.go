package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"creditline/billing"
	"creditline/billing/webhooks"
	"github.com/labstack/echo/v4"
)

type webhookEndpointJSON struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Secret    string    `json:"secret,omitempty"` // in the creation answer only
	CreatedAt time.Time `json:"created_at"`
}

func toEndpointJSON(e webhooks.Endpoint) webhookEndpointJSON {
	return webhookEndpointJSON{ID: e.ID, URL: e.URL, Events: e.Events, CreatedAt: e.CreatedAt}
}

type webhookAttemptJSON struct {
	N               int       `json:"n"`
	At              time.Time `json:"at"`
	HTTPStatus      *int      `json:"http_status"`
	DurationMS      int       `json:"duration_ms"`
	ResponseExcerpt string    `json:"response_excerpt"`
	Error           string    `json:"error"`
}

type webhookDeliveryJSON struct {
	ID            string               `json:"id"`
	Endpoint      string               `json:"endpoint"`
	Event         string               `json:"event"`
	Type          string               `json:"type"`
	Status        string               `json:"status"`
	Body          json.RawMessage      `json:"body"`
	CreatedAt     time.Time            `json:"created_at"`
	NextAttemptAt *string              `json:"next_attempt_at"`
	FinishedAt    *string              `json:"finished_at"`
	Attempts      []webhookAttemptJSON `json:"attempts"`
}

// APIListWebhookEndpoints: GET /api/v1/accounts/{id}/webhook-endpoints (secrets are never listed).
func (h *Handlers) APIListWebhookEndpoints(c echo.Context) error {
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	es, err := h.hooks.Endpoints(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	out := make([]webhookEndpointJSON, len(es))
	for i, e := range es {
		out[i] = toEndpointJSON(e)
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// APICreateWebhookEndpoint: POST /api/v1/accounts/{id}/webhook-endpoints; the secret is in
// this answer only.
func (h *Handlers) APICreateWebhookEndpoint(c echo.Context) error {
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	var req struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
	}
	if _, err := decode(c, &req); err != nil {
		return err
	}
	e, err := h.hooks.CreateEndpoint(c.Request().Context(), a.ID, webhooks.RoleAPIKey,
		webhooks.EndpointInput{URL: req.URL, Events: req.Events}, apiOp(c, "", ""))
	if err != nil {
		return err
	}
	out := toEndpointJSON(e)
	out.Secret = e.Secret
	return c.JSON(http.StatusCreated, out)
}

// APIDeleteWebhookEndpoint: DELETE /api/v1/accounts/{id}/webhook-endpoints/{endpoint_id}.
func (h *Handlers) APIDeleteWebhookEndpoint(c echo.Context) error {
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	if err := h.hooks.DeleteEndpoint(c.Request().Context(), a.ID, webhooks.RoleAPIKey, c.Param("endpoint_id"), apiOp(c, "", "")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// APIWebhookDeliveries: GET /api/v1/accounts/{id}/webhook-endpoints/{endpoint_id}/deliveries,
// newest first (limit 1-100, default 20), each with every attempt.
func (h *Handlers) APIWebhookDeliveries(c echo.Context) error {
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	limit := 20
	if s := c.QueryParam("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil {
			return billing.FieldError("limit", "Must be a whole number from 1 to 100.")
		}
	}
	ds, err := h.hooks.Deliveries(c.Request().Context(), a.ID, c.Param("endpoint_id"), limit)
	if err != nil {
		return err
	}
	out := make([]webhookDeliveryJSON, len(ds))
	for i, d := range ds {
		out[i] = webhookDeliveryJSON{ID: d.ID, Endpoint: d.EndpointID, Event: d.EventID, Type: d.Type, Status: d.Status,
			Body: json.RawMessage(d.Payload), CreatedAt: d.CreatedAt, NextAttemptAt: timeStr(d.NextAttemptAt),
			FinishedAt: timeStr(d.FinishedAt), Attempts: make([]webhookAttemptJSON, len(d.Log))}
		for j, at := range d.Log {
			aj := webhookAttemptJSON{N: at.N, At: at.At, DurationMS: at.DurationMS, ResponseExcerpt: at.ResponseExcerpt, Error: at.Error}
			if at.HTTPStatus != 0 {
				aj.HTTPStatus = &at.HTTPStatus
			}
			out[i].Attempts[j] = aj
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}
