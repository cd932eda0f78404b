package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"creditline/billing"
	"creditline/billing/pricing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// AdminPricing: GET /admin/pricing — the live version, history, drafts and margin target.
func (h *Handlers) AdminPricing(c echo.Context) error {
	v, err := h.pricingView(c)
	if err != nil {
		return err
	}
	switch {
	case c.QueryParam("published") != "":
		v.Notice = pages.Notice{Kind: "success", Text: "Version " + c.QueryParam("published") + " published. The audit log records it."}
	case c.QueryParam("done") == "cancelled":
		v.Notice = pages.Notice{Kind: "success", Text: "Scheduled version cancelled; it will never take effect."}
	case c.QueryParam("done") == "margin":
		v.Notice = pages.Notice{Kind: "success", Text: "Target margin saved."}
	case c.QueryParam("done") == "discarded":
		v.Notice = pages.Notice{Kind: "success", Text: "Draft discarded."}
	}
	return render(c, http.StatusOK, pages.AdminPricing(v))
}

func (h *Handlers) pricingView(c echo.Context) (pages.AdminPricingView, error) {
	ctx := c.Request().Context()
	now := h.svc.Now()
	v := pages.AdminPricingView{Now: now}
	if live, err := h.svc.Live().Current(now); err == nil {
		v.Live = live
	}
	var err error
	if v.History, err = h.svc.PriceBookHistory(ctx); err != nil {
		return v, err
	}
	if v.Drafts, err = h.svc.PriceDrafts(ctx); err != nil {
		return v, err
	}
	v.Target, err = h.svc.TargetMargin(ctx)
	return v, err
}

// pricingFormError re-renders /admin/pricing with form's field errors (422).
func (h *Handlers) pricingFormError(c echo.Context, form string, vals map[string]string, err error) error {
	if billing.ErrorCode(err) != billing.EInvalid && billing.ErrorCode(err) != billing.EConflict {
		return err
	}
	v, verr := h.pricingView(c)
	if verr != nil {
		return verr
	}
	fields, msg := fieldErrors(err)
	v.Form, v.Values, v.Errors = form, vals, fields
	if msg != "" {
		v.Notice = pages.Notice{Kind: "error", Text: msg}
	} else {
		v.Notice = pages.Notice{Kind: "error", Text: "Check the highlighted field."}
	}
	return render(c, formStatus, pages.AdminPricing(v))
}

// AdminPricingMargin: POST /admin/pricing/margin — the target margin (an audited setting).
func (h *Handlers) AdminPricingMargin(c echo.Context) error {
	vals := formValues(c, "percent", "credit_value_micro_usd", "reason")
	var v billing.Validation
	pct, err := strconv.Atoi(strings.TrimSpace(vals["percent"]))
	if err != nil {
		v.Add("percent", "Use a whole number from 0 to 95.")
	}
	credit, err := strconv.ParseInt(strings.TrimSpace(vals["credit_value_micro_usd"]), 10, 64)
	if err != nil {
		v.Add("credit_value_micro_usd", "Use a whole number of micro-dollars (100000 is $0.10).")
	}
	if err := v.Err(); err != nil {
		return h.pricingFormError(c, "margin", vals, err)
	}
	if err := h.svc.SetTargetMargin(c.Request().Context(), adminOp(c), pricing.MarginTarget{Percent: pct, CreditMicroUSD: credit}); err != nil {
		return h.pricingFormError(c, "margin", vals, err)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/pricing?done=margin")
}

// AdminNewPriceDraft: POST /admin/pricing/drafts — a draft copying the newest version.
func (h *Handlers) AdminNewPriceDraft(c echo.Context) error {
	d, err := h.svc.CreatePriceDraft(c.Request().Context(), currentActor(c))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, draftPath(d.ID))
}

// AdminDiscardPriceDraft: POST /admin/pricing/drafts/:id/discard.
func (h *Handlers) AdminDiscardPriceDraft(c echo.Context) error {
	id, err := draftParam(c)
	if err != nil {
		return err
	}
	if err := h.svc.DiscardPriceDraft(c.Request().Context(), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/pricing?done=discarded")
}

// AdminCancelPriceVersion: POST /admin/pricing/versions/:version/cancel — withdraws a
// scheduled version (a reason is required; audited).
func (h *Handlers) AdminCancelPriceVersion(c echo.Context) error {
	ver, err := strconv.Atoi(c.Param("version"))
	if err != nil || ver < 1 {
		return billing.Errorf(billing.ENotFound, "No such price book version.")
	}
	vals := formValues(c, "reason")
	if err := h.svc.CancelPriceBookVersion(c.Request().Context(), ver, adminOp(c)); err != nil {
		return h.pricingFormError(c, "cancel:"+strconv.Itoa(ver), vals, err)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/pricing?done=cancelled")
}

func currentActor(c echo.Context) string { return billing.UserActor(currentUser(c).ID).String() }

func draftPath(id int64) string { return "/admin/pricing/drafts/" + strconv.FormatInt(id, 10) }

// draftParam reads :id; anything but a positive number is a 404 like an unknown draft.
func draftParam(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, billing.Errorf(billing.ENotFound, "No such draft price book.")
	}
	return id, nil
}

// parseEffectiveAt reads a datetime-local value as UTC; empty is zero (now).
func parseEffectiveAt(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, billing.FieldError("effective_at", "Use a date and time like 2026-12-01T09:00 (UTC).")
}
