package handlers

import (
	"net/http"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// defaultQuantities fill the estimator so it shows a price before anything is typed.
var defaultQuantities = map[string]string{"input_tokens": "1000", "output_tokens": "500", "images": "1", "steps": "30",
	"megapixels": "1", "seconds": "60", "megabytes": "10", "words": "500"}

// Prices: GET /prices — the estimator and every rate on the account's plan. Without
// JavaScript the estimator's form submits here and the page shows its result.
func (h *Handlers) Prices(c echo.Context) error {
	acc, _, q, err := h.customerAccount(c)
	if err != nil {
		return err
	}
	pl, err := h.svc.PriceList(c.Request().Context(), acc)
	if err != nil {
		return err
	}
	ev, status, err := h.estimate(c, acc, pl, q, c.QueryParam("action") == "")
	if err != nil {
		return err
	}
	return render(c, status, pages.PricesPage(pages.Prices{Account: acc, List: pl, Estimator: ev, AccountQ: q}))
}

// PricesEstimator: GET /prices/estimator — the estimator for another action (htmx, when the
// action changes): its fields with defaults, and their estimate.
func (h *Handlers) PricesEstimator(c echo.Context) error {
	acc, _, q, err := h.customerAccount(c)
	if err != nil {
		return err
	}
	pl, err := h.svc.PriceList(c.Request().Context(), acc)
	if err != nil {
		return err
	}
	ev, status, err := h.estimate(c, acc, pl, q, true)
	if err != nil {
		return err
	}
	return render(c, status, pages.Estimator(ev))
}

// PricesEstimate: GET /prices/estimate — the result region only (htmx, as you type).
func (h *Handlers) PricesEstimate(c echo.Context) error {
	acc, _, q, err := h.customerAccount(c)
	if err != nil {
		return err
	}
	pl, err := h.svc.PriceList(c.Request().Context(), acc)
	if err != nil {
		return err
	}
	ev, status, err := h.estimate(c, acc, pl, q, false)
	if err != nil {
		return err
	}
	return render(c, status, pages.EstimateResult(ev.Result))
}

// estimate reads the estimator's fields (defaults fill what is missing when fill) and prices
// them. Bad input is a 422 with the message in the result; the estimate never charges.
func (h *Handlers) estimate(c echo.Context, acc billing.Account, pl billing.PriceList, q string, fill bool) (pages.EstimatorView, int, error) {
	a, _ := pl.Action(c.QueryParam("action"))
	v := pages.EstimatorView{Action: a, Actions: pl.Estimator, Attrs: map[string]string{}, Qty: map[string]string{},
		Premium: pl.Plan.Entitlements.PremiumModels, AccountQ: q}
	v.Result.ActionName = a.Name
	attrs := map[string]string{}
	for _, at := range a.Attributes {
		val, ok := c.QueryParams()[at.Name]
		chosen := ""
		if ok && validChoice(at, val[0]) {
			chosen = val[0]
		} else if !at.Optional {
			chosen = at.Values[0]
		}
		v.Attrs[at.Name] = chosen
		if chosen != "" {
			attrs[at.Name] = chosen
		}
	}
	qs := map[string]billing.Quantity{}
	var bad billing.Validation
	for _, name := range a.Quantities {
		raw, ok := c.QueryParams()[name]
		s := ""
		if ok {
			s = raw[0]
		} else if fill {
			s = defaultQuantities[name]
		}
		v.Qty[name] = s
		if s == "" {
			continue
		}
		n, err := billing.ParseQuantity(s)
		switch {
		case err != nil || n < 0:
			bad.Add(name, "Type a number such as 1000 (at most 3 decimals).")
		case !billing.QuantityIsMeasured(name) && !n.Whole():
			bad.Add(name, "Must be a whole number.")
		default:
			qs[name] = n
		}
	}
	if err := bad.Err(); err != nil {
		v.Result.Errors, _ = fieldErrors(err)
		return v, formStatus, nil
	}
	est, err := h.svc.EstimateCovers(c.Request().Context(), acc.ID, a.Key, qs, attrs)
	switch code := billing.ErrorCode(err); code {
	case "":
		v.Result.Est = &est
		return v, http.StatusOK, nil
	case billing.EInvalid, billing.EUnknownAction:
		v.Result.Message = billing.ErrorMessage(err)
		return v, formStatus, nil
	}
	return v, 0, err
}

func validChoice(at billing.EstimatorAttribute, val string) bool {
	if val == "" {
		return at.Optional
	}
	for _, x := range at.Values {
		if x == val {
			return true
		}
	}
	return false
}
