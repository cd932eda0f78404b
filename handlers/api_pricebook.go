package handlers

import (
	"net/http"
	"time"

	"creditline/billing"
	"creditline/billing/pricing"
	"creditline/billing/simulate"
	"github.com/labstack/echo/v4"
)

// priceDraftJSON is a draft as the API returns it.
type priceDraftJSON struct {
	ID             int64                   `json:"id"`
	BaseVersion    int                     `json:"base_version"`
	Book           billing.BookData        `json:"book"`
	MarginWarnings []pricing.MarginWarning `json:"margin_warnings"`
}

// APIPriceBook: GET /api/v1/price-book — the version in effect now (platform keys).
func (h *Handlers) APIPriceBook(c echo.Context) error {
	if err := requirePlatform(c); err != nil {
		return err
	}
	b, err := h.svc.Live().Current(h.svc.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, b.Data())
}

// APICreatePriceDraft: POST /api/v1/price-book/drafts — a whole book in the shape GET
// returns (version, status and times are ignored) → 201 draft, or 400 naming each field.
func (h *Handlers) APICreatePriceDraft(c echo.Context) error {
	if err := requirePlatform(c); err != nil {
		return err
	}
	var req billing.BookData
	if _, err := decode(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	d, err := h.svc.CreatePriceDraftFrom(ctx, req, req.Note, billing.KeyActor(apiKey(c).ID).String())
	if err != nil {
		return err
	}
	target, err := h.svc.TargetMargin(ctx)
	if err != nil {
		return err
	}
	w := d.Book.MarginWarnings(target)
	if w == nil {
		w = []pricing.MarginWarning{}
	}
	return c.JSON(http.StatusCreated, priceDraftJSON{ID: d.ID, BaseVersion: d.BaseVersion, Book: d.Book.Data(), MarginWarnings: w})
}

// simulationJSON is the impact simulation as the API returns it.
type simulationJSON struct {
	Draft int64     `json:"draft"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	*simulate.Result
}

// APISimulatePriceDraft: POST /api/v1/price-book/drafts/{id}/simulate — runs the impact
// simulation (or waits for the one running) and answers its figures.
func (h *Handlers) APISimulatePriceDraft(c echo.Context) error {
	if err := requirePlatform(c); err != nil {
		return err
	}
	if c.Request().ContentLength > 0 { // no body is expected; one sent must still be clean JSON
		var none struct{}
		if _, err := decode(c, &none); err != nil {
			return err
		}
	}
	id, err := draftParam(c)
	if err != nil {
		return err
	}
	if h.sims == nil {
		return billing.Errorf(billing.EConflict, "Simulations are not available on this server.")
	}
	ctx := c.Request().Context()
	d, err := h.svc.PriceDraft(ctx, id)
	if err != nil {
		return err
	}
	target, err := h.svc.TargetMargin(ctx)
	if err != nil {
		return err
	}
	j := h.sims.Start(d.ID, d.UpdatedAt, d.Book, target)
	if err := j.Wait(ctx); err != nil {
		return err
	}
	res, err, _ := h.sims.Snapshot(j)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, simulationJSON{Draft: id, From: res.From, To: res.To, Result: res})
}

// APIPublishPriceDraft: POST /api/v1/price-book/drafts/{id}/publish {effective_at?, reason,
// confirm_margin_warnings?} → 201 the new version.
func (h *Handlers) APIPublishPriceDraft(c echo.Context) error {
	if err := requirePlatform(c); err != nil {
		return err
	}
	var req struct {
		EffectiveAt *time.Time `json:"effective_at"`
		Reason      string     `json:"reason"`
		Confirm     bool       `json:"confirm_margin_warnings"`
	}
	if _, err := decode(c, &req); err != nil {
		return err
	}
	id, err := draftParam(c)
	if err != nil {
		return err
	}
	opts := billing.PublishOptions{ConfirmWarnings: req.Confirm}
	if req.EffectiveAt != nil {
		opts.EffectiveAt = req.EffectiveAt.UTC()
	}
	pub, err := h.svc.PublishPriceDraft(c.Request().Context(), id, opts, apiOp(c, req.Reason, ""))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, pub.Data())
}
