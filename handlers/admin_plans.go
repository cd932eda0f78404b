package handlers

import (
	"net/http"
	"strings"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

var planFields = []string{"key", "name", "price_usd", "price_eur", "price_gbp", "credits_per_period", "multiplier", "rollover_policy",
	"rollover_cap", "rollover_periods", "premium_models", "batch", "api_access", "commercial_use", "priority", "rate_limit_per_min",
	"max_active_holds", "team_seats", "active", "sort_order", "reason",
	"yearly_usd", "yearly_eur", "yearly_gbp", "stripe_monthly_usd", "stripe_monthly_eur", "stripe_monthly_gbp",
	"stripe_yearly_usd", "stripe_yearly_eur", "stripe_yearly_gbp"}

var packFields = []string{"key", "name", "credits", "bonus_credits", "price_usd", "price_eur", "price_gbp", "expiry_months", "active",
	"sort_order", "reason", "stripe_usd", "stripe_eur", "stripe_gbp"}

// AdminPlans: GET /admin/plans — every plan and pack, retired ones included, each editable.
func (h *Handlers) AdminPlans(c echo.Context) error {
	v, err := h.plansView(c)
	if err != nil {
		return err
	}
	if d := c.QueryParam("saved"); d != "" {
		v.Notice = pages.Notice{Kind: "success", Text: "Saved " + d + ". The audit log records it."}
	}
	return render(c, http.StatusOK, pages.AdminPlans(v))
}

func (h *Handlers) plansView(c echo.Context) (pages.AdminPlansView, error) {
	ctx := c.Request().Context()
	plans, err := h.svc.AllPlans(ctx)
	if err != nil {
		return pages.AdminPlansView{}, err
	}
	packs, err := h.svc.AllPacks(ctx)
	return pages.AdminPlansView{Plans: plans, Packs: packs, Currencies: billing.Currencies}, err
}

func (h *Handlers) plansFormError(c echo.Context, form string, vals map[string]string, err error) error {
	if billing.ErrorCode(err) != billing.EInvalid {
		return err
	}
	v, verr := h.plansView(c)
	if verr != nil {
		return verr
	}
	fields, msg := fieldErrors(err)
	v.Form, v.Values, v.Errors = form, vals, fields
	if msg == "" {
		msg = "Check the highlighted fields."
	}
	v.Notice = pages.Notice{Kind: "error", Text: msg}
	return render(c, formStatus, pages.AdminPlans(v))
}

// AdminSavePlan: POST /admin/plans/plans — creates or replaces a plan (audited, reason required).
func (h *Handlers) AdminSavePlan(c echo.Context) error {
	vals := formValues(c, planFields...)
	p, err := planForm(vals)
	form := "plan:" + vals["key"]
	if c.FormValue("new") == "yes" {
		form = "plan:new"
	}
	if err == nil {
		err = h.svc.SavePlanAs(c.Request().Context(), adminOp(c), p)
	}
	if err != nil {
		return h.plansFormError(c, form, vals, err)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/plans?saved=plan+"+p.Key)
}

// AdminSavePack: POST /admin/plans/packs — creates or replaces a pack (audited, reason required).
func (h *Handlers) AdminSavePack(c echo.Context) error {
	vals := formValues(c, packFields...)
	p, err := packForm(vals)
	form := "pack:" + vals["key"]
	if c.FormValue("new") == "yes" {
		form = "pack:new"
	}
	if err == nil {
		err = h.svc.SavePackAs(c.Request().Context(), adminOp(c), p)
	}
	if err != nil {
		return h.plansFormError(c, form, vals, err)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/plans?saved=pack+"+p.Key)
}

func planForm(f map[string]string) (billing.Plan, error) {
	var v billing.Validation
	p := billing.Plan{Key: strings.TrimSpace(f["key"]), Name: strings.TrimSpace(f["name"]), Active: f["active"] == "on",
		PriceMonthly: formPrices(&v, "price_monthly", "price_", f), PriceYearly: formPrices(&v, "price_yearly", "yearly_", f),
		StripePriceMonthly: formStripeIDs("stripe_monthly_", f), StripePriceYearly: formStripeIDs("stripe_yearly_", f)}
	if len(p.PriceYearly) == 0 {
		p.PriceYearly = nil // no yearly billing
	}
	p.CreditsPerPeriod = formAmount(&v, "credits_per_period", f["credits_per_period"])
	if m, err := billing.ParseMultiplier(strings.TrimSpace(f["multiplier"])); err != nil {
		v.Add("multiplier", "Use a number like 0.9.")
	} else {
		p.Multiplier = m
	}
	p.Rollover = billing.Rollover{Policy: billing.RolloverPolicy(f["rollover_policy"]),
		CapCredits: formAmount(&v, "rollover.cap_credits", f["rollover_cap"]), MaxPeriods: int(formInt(&v, "rollover.max_periods", f["rollover_periods"]))}
	p.Entitlements = billing.Entitlements{PremiumModels: f["premium_models"] == "on", Batch: f["batch"] == "on", APIAccess: f["api_access"] == "on",
		CommercialUse: f["commercial_use"] == "on", Priority: billing.Priority(f["priority"]),
		RateLimitPerMin: int(formInt(&v, "entitlements.rate_limit_per_min", f["rate_limit_per_min"])),
		MaxActiveHolds:  int(formInt(&v, "entitlements.max_active_holds", f["max_active_holds"])),
		TeamSeats:       int(formInt(&v, "entitlements.team_seats", f["team_seats"]))}
	p.SortOrder = int(formInt(&v, "sort_order", f["sort_order"]))
	return p, v.Err()
}

func packForm(f map[string]string) (billing.Pack, error) {
	var v billing.Validation
	p := billing.Pack{Key: strings.TrimSpace(f["key"]), Name: strings.TrimSpace(f["name"]), Active: f["active"] == "on",
		Prices: formPrices(&v, "prices", "price_", f), StripePrices: formStripeIDs("stripe_", f)}
	p.Credits = formAmount(&v, "credits", f["credits"])
	p.BonusCredits = formAmount(&v, "bonus_credits", f["bonus_credits"])
	if s := strings.TrimSpace(f["expiry_months"]); s != "" {
		n := int(formInt(&v, "expiry_months", s))
		p.ExpiryMonths = &n
	}
	p.SortOrder = int(formInt(&v, "sort_order", f["sort_order"]))
	return p, v.Err()
}

// formStripeIDs reads <prefix><currency> fields (Stripe price ids); empty ones are left out.
func formStripeIDs(prefix string, f map[string]string) billing.StripePrices {
	var out billing.StripePrices
	for _, cur := range billing.Currencies {
		if s := strings.TrimSpace(f[prefix+cur]); s != "" {
			if out == nil {
				out = billing.StripePrices{}
			}
			out[cur] = s
		}
	}
	return out
}

// formPrices reads <prefix><currency> fields ("12.00") into cents; an empty one is left out.
func formPrices(v *billing.Validation, field, prefix string, f map[string]string) billing.Prices {
	out := billing.Prices{}
	for _, cur := range billing.Currencies {
		s := strings.ReplaceAll(strings.TrimSpace(f[prefix+cur]), ",", "")
		if s == "" {
			continue
		}
		c, err := billing.ParseCredits(s) // three decimals; money takes two
		if err != nil || c%10 != 0 {
			v.Add(field+"."+cur, "Use an amount like 12.00.")
			continue
		}
		out[cur] = int64(c) / 10
	}
	return out
}
