package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"creditline/billing"
	"creditline/billing/abuse"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// AdminAbuse: GET /admin/abuse?status=&kind= — the review queue and the thresholds form.
func (h *Handlers) AdminAbuse(c echo.Context) error {
	v, err := h.adminAbuseView(c)
	if err != nil {
		return err
	}
	if c.QueryParam("done") == "thresholds" {
		v.Notice = pages.Notice{Kind: "success", Text: "Thresholds saved: the next detector run uses them."}
	}
	return render(c, http.StatusOK, pages.AdminAbuse(v))
}

func (h *Handlers) adminAbuseView(c echo.Context) (pages.AdminAbuseView, error) {
	ctx := c.Request().Context()
	v := pages.AdminAbuseView{Status: c.QueryParam("status"), Kind: c.QueryParam("kind"), Now: h.svc.Now(),
		Thresholds: map[string]string{}, Errors: map[string]string{}}
	if v.Status == "" {
		v.Status = abuse.StatusOpen
	}
	flags, err := h.abuse.Queue(ctx, abuse.Filter{Status: v.Status, Kind: v.Kind})
	if err != nil {
		return v, err
	}
	v.Flags = flags
	th, err := h.abuse.Thresholds(ctx)
	if err != nil {
		return v, err
	}
	for _, name := range abuse.ThresholdNames() {
		v.Thresholds[name] = strconv.FormatInt(th.Field(name), 10)
	}
	return v, nil
}

// AdminAbuseThresholds: POST /admin/abuse/thresholds — saves the detectors' thresholds
// (audited); a bad value re-renders the form beside the field (422).
func (h *Handlers) AdminAbuseThresholds(c echo.Context) error {
	ctx := c.Request().Context()
	var th abuse.Thresholds
	errs := map[string]string{}
	for _, name := range abuse.ThresholdNames() {
		n, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(c.FormValue(name)), ",", ""), 10, 64)
		if err != nil {
			errs[name] = "Enter a whole number."
		}
		th.SetField(name, n)
	}
	var err error
	if len(errs) > 0 {
		err = &billing.Error{Code: billing.EInvalid, Message: "Some thresholds are not valid.", Fields: errs}
	} else {
		err = h.abuse.SetThresholds(ctx, th, adminOp(c))
	}
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/admin/abuse?done=thresholds")
	}
	if billing.ErrorCode(err) != billing.EInvalid {
		return err
	}
	v, verr := h.adminAbuseView(c)
	if verr != nil {
		return verr
	}
	for _, name := range abuse.ThresholdNames() {
		v.Thresholds[name] = c.FormValue(name)
	}
	v.Reason = c.FormValue("reason")
	var msg string
	v.Errors, msg = formErrors(err)
	if msg == "" {
		msg = "The thresholds were not saved: see the fields below."
	}
	v.Notice = pages.Notice{Kind: "error", Text: msg}
	return render(c, formStatus, pages.AdminAbuse(v))
}

// formErrors are an invalid_request's per-field messages; a whole-form message goes to the notice.
func formErrors(err error) (map[string]string, string) {
	f, msg := fieldErrors(err)
	if f == nil {
		f = map[string]string{}
	}
	return f, msg
}

func flagID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, billing.Errorf(billing.ENotFound, "No abuse flag %s.", c.Param("id"))
	}
	return id, nil
}

// AdminAbuseFlag: GET /admin/abuse/:id — a flag's evidence, usage chart, related accounts
// and the decision form.
func (h *Handlers) AdminAbuseFlag(c echo.Context) error {
	id, err := flagID(c)
	if err != nil {
		return err
	}
	d, err := h.abuse.Detail(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v := pages.AdminAbuseFlagView{D: d, Errors: map[string]string{}}
	switch c.QueryParam("done") {
	case abuse.ActionDismiss:
		v.Notice = pages.Notice{Kind: "success", Text: "Flag dismissed."}
	case abuse.ActionSuspend:
		v.Notice = pages.Notice{Kind: "success", Text: "Account suspended: its usage and API requests are refused."}
	case abuse.ActionRequireVerify:
		v.Notice = pages.Notice{Kind: "success", Text: "Verification required: usage resumes once the owner saves a card."}
	}
	return render(c, http.StatusOK, pages.AdminAbuseFlag(v))
}

// AdminResolveAbuseFlag: POST /admin/abuse/:id/resolve — dismiss, suspend or require
// verification, with a note (audited); a missing note re-renders the form (422).
func (h *Handlers) AdminResolveAbuseFlag(c echo.Context) error {
	id, err := flagID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	r := abuse.Resolution{Action: c.FormValue("action"), Note: c.FormValue("note")}
	if _, err = h.abuse.Resolve(ctx, id, r, adminOp(c)); err == nil {
		return c.Redirect(http.StatusSeeOther, "/admin/abuse/"+strconv.FormatInt(id, 10)+"?done="+r.Action)
	}
	if billing.ErrorCode(err) != billing.EInvalid {
		return err
	}
	d, derr := h.abuse.Detail(ctx, id)
	if derr != nil {
		return derr
	}
	errs, msg := formErrors(err)
	if msg == "" {
		msg = "The flag was not resolved: see the form below."
	}
	v := pages.AdminAbuseFlagView{D: d, Action: r.Action, Note: r.Note, Errors: errs, Notice: pages.Notice{Kind: "error", Text: msg}}
	return render(c, formStatus, pages.AdminAbuseFlag(v))
}
