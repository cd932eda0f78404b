package handlers

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"creditline/billing"
	"github.com/labstack/echo/v4"
)

type notificationJSON struct {
	ID        int64      `json:"id"`
	Type      string     `json:"type"`
	RuleID    *string    `json:"rule_id,omitempty"`
	Level     string     `json:"level"`
	Message   string     `json:"message"`
	Link      string     `json:"link,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
}

// APINotifications: GET /api/v1/accounts/{id}/notifications — newest first, cursor-paginated.
// The type is the notification's kind (payment_failed, auto_recharge, and the alert kinds).
func (h *Handlers) APINotifications(c echo.Context) error {
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	var before int64
	if cur := c.QueryParam("cursor"); cur != "" {
		b, derr := base64.RawURLEncoding.DecodeString(cur)
		if before, err = strconv.ParseInt(string(b), 10, 64); derr != nil || err != nil || before <= 0 {
			return billing.FieldError("cursor", "is not a cursor this endpoint returned")
		}
	}
	ns, next, err := h.svc.NotificationPage(c.Request().Context(), a.ID, before, limit)
	if err != nil {
		return err
	}
	out := list[notificationJSON]{Data: make([]notificationJSON, 0, len(ns))}
	for _, n := range ns {
		out.Data = append(out.Data, notificationJSON{ID: n.ID, Type: n.Kind, RuleID: n.RuleID, Level: n.Level, Message: n.Message,
			Link: n.Link, CreatedAt: n.CreatedAt, ReadAt: n.ReadAt})
	}
	if next != 0 {
		cur := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(next, 10)))
		out.NextCursor = &cur
	}
	return c.JSON(http.StatusOK, out)
}
