package handlers

import (
	"net/http"
	"strconv"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// AdminJobs: GET /admin/jobs — queued, running, failed and recently done jobs.
func (h *Handlers) AdminJobs(c echo.Context) error {
	jv, err := h.svc.Jobs(c.Request().Context())
	if err != nil {
		return err
	}
	v := pages.AdminJobsView{J: jv}
	id := c.QueryParam("job")
	switch c.QueryParam("done") {
	case "retry":
		v.Notice = pages.Notice{Kind: "success", Text: "Job #" + id + " is queued to run again now (one more attempt)."}
	case "cancel":
		v.Notice = pages.Notice{Kind: "success", Text: "Job #" + id + " is cancelled: it will not run again."}
	case "nothing":
		v.Notice = pages.Notice{Kind: "info", Text: "Nothing to do: job #" + id + " is not failed (already retried or cancelled)."}
	}
	return render(c, http.StatusOK, pages.AdminJobs(v))
}

// AdminRetryJob: POST /admin/jobs/:id/retry — a failed job, again now, audited.
func (h *Handlers) AdminRetryJob(c echo.Context) error { return h.adminSettleJob(c, "retry") }

// AdminCancelJob: POST /admin/jobs/:id/cancel — a failed job, never again, audited.
func (h *Handlers) AdminCancelJob(c echo.Context) error { return h.adminSettleJob(c, "cancel") }

func (h *Handlers) adminSettleJob(c echo.Context, what string) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return billing.Errorf(billing.ENotFound, "No job %s.", c.Param("id"))
	}
	settle := h.svc.RetryFailedJob
	if what == "cancel" {
		settle = h.svc.CancelFailedJob
	}
	replayed, err := settle(c.Request().Context(), id, adminOp(c))
	if err != nil {
		return err
	}
	if replayed {
		what = "nothing"
	}
	return c.Redirect(http.StatusSeeOther, "/admin/jobs?done="+what+"&job="+strconv.FormatInt(id, 10))
}
