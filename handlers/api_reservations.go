package handlers

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"creditline/billing"
	"github.com/labstack/echo/v4"
)

func hashBytes(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:16])
}

func itoa(i int) string { return strconv.Itoa(i) }

type reservationJSON struct {
	ID        string          `json:"id"`
	Account   string          `json:"account"`
	Action    string          `json:"action,omitempty"`
	Credits   billing.Credits `json:"credits"`
	Status    string          `json:"status"`
	ExpiresAt time.Time       `json:"expires_at"`
}

func toReservationJSON(h billing.Hold) reservationJSON {
	return reservationJSON{ID: h.ID, Account: h.AccountID, Action: h.Action, Credits: h.Amount, Status: h.Status, ExpiresAt: h.ExpiresAt}
}

// APIReserve: POST /api/v1/reservations — hold the estimated cost of a long job.
func (h *Handlers) APIReserve(c echo.Context) error {
	var req struct {
		actionRequest
		TTLSeconds     *int   `json:"ttl_seconds"`
		IdempotencyKey string `json:"idempotency_key"`
	}
	hash, err := decode(c, &req)
	if err != nil {
		return err
	}
	var v billing.Validation
	qs := req.check(&v)
	if req.TTLSeconds == nil {
		v.Add("ttl_seconds", "Required: how long to hold the credits, 1 to 604800 seconds.")
	}
	if req.IdempotencyKey == "" {
		v.Add("idempotency_key", "Required: a unique key per reservation.")
	} else if len(req.IdempotencyKey) > 255 {
		v.Add("idempotency_key", "Use at most 255 characters.")
	}
	if err := v.Err(); err != nil {
		return err
	}
	res, _, err := h.svc.ReserveAction(c.Request().Context(), billing.ReserveActionInput{AccountID: req.Account, Action: req.Action,
		Quantities: qs, Attributes: req.Attributes, TTL: time.Duration(*req.TTLSeconds) * time.Second,
		IdempotencyKey: req.IdempotencyKey, RequestHash: hash, Key: apiKey(c), Member: req.Member})
	if err != nil {
		return err
	}
	return created(c, res.Replayed, toReservationJSON(res.Hold))
}

// APICommit: POST /api/v1/reservations/{id}/commit — charge the actual use.
func (h *Handlers) APICommit(c echo.Context) error {
	var req struct {
		Quantities     rawQuantities     `json:"quantities"`
		Attributes     map[string]string `json:"attributes"`
		IdempotencyKey string            `json:"idempotency_key"`
	}
	hash, err := decode(c, &req)
	if err != nil {
		return err
	}
	if req.IdempotencyKey == "" {
		return billing.FieldError("idempotency_key", "Required: a unique key per commit.")
	}
	qs, err := req.Quantities.parse()
	if err != nil {
		return err
	}
	r, err := h.svc.CommitAction(c.Request().Context(), billing.CommitActionInput{HoldID: c.Param("id"),
		Quantities: qs, Attributes: req.Attributes, IdempotencyKey: req.IdempotencyKey, RequestHash: hash,
		Key: apiKey(c), ClientIP: c.RealIP()})
	if err != nil {
		return err
	}
	return created(c, r.Replayed, toUsageJSON(r))
}

// APIRelease: POST /api/v1/reservations/{id}/release — free the credits without charging.
func (h *Handlers) APIRelease(c echo.Context) error {
	hold, err := h.svc.ReleaseForKey(c.Request().Context(), *apiKey(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toReservationJSON(hold))
}
