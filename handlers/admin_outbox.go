package handlers

import (
	"net/http"
	"strconv"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// outboxPageSize is how many messages the outbox page shows at once.
const outboxPageSize = 50

// AdminOutbox: GET /admin/outbox — the mail outbox, newest first; ?before=<id> pages back.
func (h *Handlers) AdminOutbox(c echo.Context) error {
	var before int64
	if s := c.QueryParam("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return &billing.Error{Code: billing.EInvalid, Message: "This link to older mail is not valid; start again from the newest."}
		}
		before = n
	}
	p, err := h.svc.OutboxListing(c.Request().Context(), before, outboxPageSize)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.AdminOutboxPage(pages.AdminOutbox{Page: p, Before: before, Delivery: h.svc.MailDelivery()}))
}
