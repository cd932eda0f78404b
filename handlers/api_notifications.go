package handlers

import (
	"net/http"
	"time"

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
	before, err := idCursor(c)
	if err != nil {
		return err
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
		cur := nextIDCursor(next)
		out.NextCursor = &cur
	}
	return c.JSON(http.StatusOK, out)
}
