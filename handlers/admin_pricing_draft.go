package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// AdminPriceDraft: GET /admin/pricing/drafts/:id — the draft editor.
func (h *Handlers) AdminPriceDraft(c echo.Context) error {
	v, err := h.draftView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.AdminPriceDraft(v))
}

func (h *Handlers) draftView(c echo.Context) (pages.AdminDraftView, error) {
	id, err := draftParam(c)
	if err != nil {
		return pages.AdminDraftView{}, err
	}
	rev, err := h.svc.ReviewPriceDraft(c.Request().Context(), id)
	if err != nil {
		return pages.AdminDraftView{}, err
	}
	return pages.AdminDraftView{Review: rev, Sim: h.simView(rev.Draft)}, nil
}

func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// draftFormResult answers a draft form: with htmx, the form alone (saved, or 422 with its
// errors) and a draft-changed event that refreshes the diff; without, the page again.
func (h *Handlers) draftFormResult(c echo.Context, form string, vals map[string]string, err error, fragment func(pages.AdminDraftView) templ.Component) error {
	if err != nil && billing.ErrorCode(err) != billing.EInvalid {
		return err
	}
	v, verr := h.draftView(c)
	if verr != nil {
		return verr
	}
	v.Form, v.Values = form, vals
	status := http.StatusOK
	if err != nil {
		status = formStatus
		fields, msg := fieldErrors(err)
		if fields == nil {
			fields = map[string]string{}
		}
		if msg != "" {
			fields[""] = msg
		}
		v.Errors = fields
	} else {
		v.Saved = true
		c.Response().Header().Set("HX-Trigger", "draft-changed")
	}
	if !isHTMX(c) {
		if err == nil {
			return c.Redirect(http.StatusSeeOther, draftPath(v.Review.Draft.ID))
		}
		v.Notice = pages.Notice{Kind: "error", Text: "Check the highlighted fields."}
		return render(c, status, pages.AdminPriceDraft(v))
	}
	return render(c, status, fragment(v))
}

// AdminSavePriceRate: POST /admin/pricing/drafts/:id/rates/:rate — saves one rate.
func (h *Handlers) AdminSavePriceRate(c echo.Context) error {
	id, err := draftParam(c)
	if err != nil {
		return err
	}
	rateID := c.Param("rate")
	cur, err := h.svc.PriceDraft(c.Request().Context(), id)
	if err != nil {
		return err
	}
	var quantities []string
	for _, a := range cur.Book.Actions() {
		if a.Key == c.FormValue("rates."+rateID+".action") {
			quantities = a.Quantities
		}
	}
	r, vals, err := rateForm(c, rateID, quantities)
	if err == nil {
		_, err = h.svc.SetDraftRate(c.Request().Context(), id, r)
	}
	return h.draftFormResult(c, "rate:"+rateID, vals, err, func(v pages.AdminDraftView) templ.Component {
		for _, x := range v.Review.Draft.Book.Data().Rates {
			if x.ID == rateID {
				return pages.RateForm(v.RateForm(x))
			}
		}
		return pages.RateForm(v.RateForm(r))
	})
}

// AdminAddPriceRate: POST /admin/pricing/drafts/:id/rates/new — a new rate (id, action,
// match); its prices are then set in its own form.
func (h *Handlers) AdminAddPriceRate(c echo.Context) error {
	id, err := draftParam(c)
	if err != nil {
		return err
	}
	vals := formValues(c, "id", "action", "match")
	var v billing.Validation
	r := billing.Rate{ID: strings.TrimSpace(vals["id"]), Action: vals["action"]}
	r.Match = parseMatch(&v, "rates."+r.ID+".match", vals["match"])
	err = v.Err()
	if err == nil {
		_, err = h.svc.SetDraftRate(c.Request().Context(), id, r)
	}
	if err != nil {
		if billing.ErrorCode(err) != billing.EInvalid {
			return err
		}
		dv, verr := h.draftView(c)
		if verr != nil {
			return verr
		}
		dv.Form, dv.Values, dv.Errors = "add", vals, map[string]string{}
		fields, msg := fieldErrors(err)
		for k, m := range fields {
			dv.Errors[k] = m
		}
		if msg != "" {
			dv.Errors["rate"] = msg
		}
		dv.Notice = pages.Notice{Kind: "error", Text: "The rate was not added; see below."}
		return render(c, formStatus, pages.AdminPriceDraft(dv))
	}
	return c.Redirect(http.StatusSeeOther, draftPath(id)+"#rate-"+r.ID)
}

// AdminRemovePriceRate: POST /admin/pricing/drafts/:id/rates/:rate/remove.
func (h *Handlers) AdminRemovePriceRate(c echo.Context) error {
	id, err := draftParam(c)
	if err != nil {
		return err
	}
	if _, err := h.svc.RemoveDraftRate(c.Request().Context(), id, c.Param("rate")); err != nil {
		return err
	}
	if isHTMX(c) {
		c.Response().Header().Set("HX-Trigger", "draft-changed")
		return c.HTML(http.StatusOK, "") // the form is swapped out of the page
	}
	return c.Redirect(http.StatusSeeOther, draftPath(id))
}

// AdminSavePriceSettings: POST /admin/pricing/drafts/:id/settings — name, schedule, batch.
func (h *Handlers) AdminSavePriceSettings(c echo.Context) error {
	id, err := draftParam(c)
	if err != nil {
		return err
	}
	sched, batch, err := scheduleForm(c)
	if err == nil {
		_, err = h.svc.SetDraftSettings(c.Request().Context(), id, strings.TrimSpace(c.FormValue("name")), sched, batch)
	}
	return h.draftFormResult(c, "settings", formValuesAll(c), err, func(v pages.AdminDraftView) templ.Component {
		return pages.DraftSettingsForm(v.Settings())
	})
}

// AdminPriceDraftReview: GET /admin/pricing/drafts/:id/review — the diff panel (htmx).
func (h *Handlers) AdminPriceDraftReview(c echo.Context) error {
	v, err := h.draftView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.DraftReviewPanel(v.Review))
}

// AdminPublishPriceDraft: POST /admin/pricing/drafts/:id/publish — now or at effective_at;
// margin warnings need confirm_warnings and a reason.
func (h *Handlers) AdminPublishPriceDraft(c echo.Context) error {
	id, err := draftParam(c)
	if err != nil {
		return err
	}
	vals := formValues(c, "effective_at", "reason", "confirm_warnings")
	at, err := parseEffectiveAt(vals["effective_at"])
	var pub *billing.PriceBook
	if err == nil {
		pub, err = h.svc.PublishPriceDraft(c.Request().Context(), id, billing.PublishOptions{EffectiveAt: at,
			ConfirmWarnings: vals["confirm_warnings"] == "yes"}, adminOp(c))
	}
	if err != nil {
		return h.draftFormResult(c, "publish", vals, err, func(v pages.AdminDraftView) templ.Component {
			return pages.PublishForm(v.Publish())
		})
	}
	return hxRedirect(c, "/admin/pricing?published="+strconv.Itoa(pub.Version()))
}
