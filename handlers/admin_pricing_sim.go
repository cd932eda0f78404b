package handlers

import (
	"errors"
	"net/http"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// simView is the simulation panel of draft d: its latest job, run by this instance or another, if any.
func (h *Handlers) simView(d billing.PriceDraft) pages.SimView {
	s := pages.SimView{DraftID: d.ID}
	if h.sims == nil {
		s.Err = "Simulations are not available on this server."
		return s
	}
	j := h.sims.Job(d.ID)
	if j == nil {
		return s
	}
	s.Started = true
	s.Done, s.Total, _ = j.Progress()
	s.Percent = j.Percent()
	res, err, finished := h.sims.Snapshot(j)
	s.Running = !finished
	s.Result = res
	if err != nil {
		s.Err = "The simulation failed; run it again."
		var e *billing.Error
		if errors.As(err, &e) && e.Code != billing.EInternal {
			s.Err = "The simulation failed: " + e.Message
		}
	}
	s.Stale = finished && !j.Stamp.Equal(d.UpdatedAt)
	return s
}

// AdminSimulatePriceDraft: POST /admin/pricing/drafts/:id/simulate — starts the impact
// simulation in the background (or joins the one running) and answers with its panel.
func (h *Handlers) AdminSimulatePriceDraft(c echo.Context) error {
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
	h.sims.Start(d.ID, d.UpdatedAt, d.Book, target)
	if !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, draftPath(id)+"#simulation")
	}
	return render(c, http.StatusOK, pages.SimulationPanel(h.simView(d)))
}

// AdminPriceDraftSimulation: GET /admin/pricing/drafts/:id/simulation — the panel, polled
// every second by htmx while the simulation runs.
func (h *Handlers) AdminPriceDraftSimulation(c echo.Context) error {
	id, err := draftParam(c)
	if err != nil {
		return err
	}
	d, err := h.svc.PriceDraft(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.SimulationPanel(h.simView(d)))
}
