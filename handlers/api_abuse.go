package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"creditline/billing"
	"creditline/billing/abuse"
	"github.com/labstack/echo/v4"
)

// flagJSON is an abuse flag as the API answers it (SPEC section 4).
type flagJSON struct {
	ID         int64           `json:"id"`
	Account    string          `json:"account"`
	Kind       string          `json:"kind"`
	Severity   string          `json:"severity"`
	Status     string          `json:"status"`
	Evidence   json.RawMessage `json:"evidence"`
	CreatedAt  time.Time       `json:"created_at"`
	Resolution *string         `json:"resolution"`
	Note       *string         `json:"note"`
	ResolvedAt *time.Time      `json:"resolved_at"`
}

func toFlagJSON(f abuse.Flag) flagJSON {
	out := flagJSON{ID: f.ID, Account: f.AccountID, Kind: f.Kind, Severity: abuse.SeverityLabel(f.Severity), Status: f.Status,
		Evidence: f.Evidence, CreatedAt: f.CreatedAt.UTC(), ResolvedAt: f.ResolvedAt}
	if len(out.Evidence) == 0 {
		out.Evidence = json.RawMessage("{}")
	}
	if f.Resolution != "" {
		out.Resolution, out.Note = &f.Resolution, &f.Note
	}
	return out
}

// APIAbuseFlags: GET /api/v1/abuse-flags?status=open|resolved&kind= — platform keys only.
func (h *Handlers) APIAbuseFlags(c echo.Context) error {
	if err := requirePlatform(c); err != nil {
		return err
	}
	f := abuse.Filter{Status: c.QueryParam("status"), Kind: c.QueryParam("kind")}
	if err := billing.CheckText("kind", f.Kind); err != nil {
		return err
	}
	if err := billing.CheckText("status", f.Status); err != nil {
		return err
	}
	flags, err := h.abuse.Queue(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := list[flagJSON]{Data: make([]flagJSON, len(flags))}
	for i, fl := range flags {
		out.Data[i] = toFlagJSON(fl)
	}
	return c.JSON(http.StatusOK, out)
}

// APIResolveAbuseFlag: POST /api/v1/abuse-flags/{id}/resolve {action, note} — platform keys.
func (h *Handlers) APIResolveAbuseFlag(c echo.Context) error {
	if err := requirePlatform(c); err != nil {
		return err
	}
	var req abuse.Resolution // the body first: a malformed one is a 400 whatever the id
	if _, err := decode(c, &req); err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return billing.Errorf(billing.ENotFound, "No abuse flag %s.", c.Param("id"))
	}
	f, err := h.abuse.Resolve(c.Request().Context(), id, req, apiOp(c, req.Note, ""))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toFlagJSON(f))
}
