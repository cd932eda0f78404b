package handlers

import (
	"net/http"
	"net/url"
	"strconv"

	"creditline/billing"
	"creditline/views"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// notificationsPageSize is how many notifications one page of the centre lists.
const notificationsPageSize = 20

// Notifications: GET /notifications — the account's notifications, newest first, keyset-paged
// by ?before=<id>.
func (h *Handlers) Notifications(c echo.Context) error {
	acc, _, q, err := h.customerAccount(c)
	if err != nil {
		return err
	}
	var before int64
	if s := c.QueryParam("before"); s != "" {
		if before, err = strconv.ParseInt(s, 10, 64); err != nil || before <= 0 {
			return billing.FieldError("before", "Not a page of this list.")
		}
	}
	items, next, err := h.svc.NotificationPage(c.Request().Context(), acc.ID, before, notificationsPageSize)
	if err != nil {
		return err
	}
	v := pages.NotificationsView{Items: items, AccountQ: q, Next: next, Paged: before != 0, Unread: views.Req(c.Request().Context()).Unread}
	return render(c, http.StatusOK, pages.NotificationsPage(v))
}

// MarkNotificationRead: POST /notifications/:id/read — htmx gets the row and the bell back;
// a plain form goes back to the list. Another account's id is a 404.
func (h *Handlers) MarkNotificationRead(c echo.Context) error {
	acc, _, q, err := h.customerAccount(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return billing.Errorf(billing.ENotFound, "No such notification.")
	}
	n, err := h.svc.MarkNotificationRead(c.Request().Context(), acc.ID, id)
	if err != nil {
		return err
	}
	if c.Request().Header.Get("HX-Request") != "true" {
		return c.Redirect(http.StatusSeeOther, notificationsURL(q))
	}
	unread, err := h.svc.UnreadCount(c.Request().Context(), acc.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.MarkedRead(n, q, unread))
}

// MarkAllNotificationsRead: POST /notifications/read-all.
func (h *Handlers) MarkAllNotificationsRead(c echo.Context) error {
	acc, _, q, err := h.customerAccount(c)
	if err != nil {
		return err
	}
	if err := h.svc.MarkAllNotificationsRead(c.Request().Context(), acc.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, notificationsURL(q))
}

func notificationsURL(q string) string {
	if q == "" {
		return "/notifications"
	}
	return "/notifications?" + url.Values{"account": {q}}.Encode()
}

// shellAccount hands the page shell the current account and its unread count (the bell).
func (h *Handlers) shellAccount(c echo.Context, acc *billing.Account) error {
	unread, err := h.svc.UnreadCount(c.Request().Context(), acc.ID)
	if err != nil {
		return err
	}
	req := views.Req(c.Request().Context())
	req.Account, req.Unread = acc, unread
	return nil
}
