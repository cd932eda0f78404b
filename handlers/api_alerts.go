package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"creditline/billing"
	"github.com/labstack/echo/v4"
)

type alertRuleJSON struct {
	ID        string     `json:"id"`
	Account   string     `json:"account"`
	Kind      string     `json:"kind"`
	Threshold *string    `json:"threshold"`
	Channels  []string   `json:"channels"`
	Enabled   bool       `json:"enabled"`
	Firing    bool       `json:"firing"`
	FiredAt   *time.Time `json:"fired_at"`
	CreatedAt time.Time  `json:"created_at"`
	MemberID  string     `json:"member_id,omitempty"`
}

func toAlertRuleJSON(r billing.AlertRule) alertRuleJSON {
	out := alertRuleJSON{ID: r.ID, Account: r.AccountID, Kind: r.Kind, Channels: r.Channels, Enabled: r.Enabled,
		Firing: r.Firing, FiredAt: r.FiredAt, CreatedAt: r.CreatedAt, MemberID: r.Member()}
	if out.Channels == nil {
		out.Channels = []string{}
	}
	if t := billing.AlertThresholdText(r); t != "" {
		out.Threshold = &t
	}
	return out
}

// APIListAlertRules: GET /api/v1/accounts/{id}/alert-rules.
func (h *Handlers) APIListAlertRules(c echo.Context) error {
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	rules, err := h.svc.AlertRules(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	data := make([]alertRuleJSON, len(rules))
	for i, r := range rules {
		data[i] = toAlertRuleJSON(r)
	}
	return c.JSON(http.StatusOK, map[string]any{"data": data})
}

// APICreateAlertRule: POST /api/v1/accounts/{id}/alert-rules.
func (h *Handlers) APICreateAlertRule(c echo.Context) error {
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	var req struct {
		Kind      string          `json:"kind"`
		Threshold json.RawMessage `json:"threshold"`
		Channels  []string        `json:"channels"`
		Enabled   *bool           `json:"enabled"`
		MemberID  string          `json:"member_id"`
	}
	if _, err := decode(c, &req); err != nil {
		return err
	}
	th, err := thresholdText(req.Threshold)
	if err != nil {
		return err
	}
	r, err := h.svc.CreateAlertRule(c.Request().Context(), a.ID, billing.AlertRuleInput{Kind: req.Kind, Threshold: th,
		Channels: req.Channels, Enabled: req.Enabled, MemberID: req.MemberID}, apiOp(c, "", ""))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toAlertRuleJSON(r))
}

// thresholdText accepts a threshold as a JSON string ("12.5", credits) or a whole number (20,
// percent or days); null or absent is none.
func thresholdText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", billing.FieldError("threshold", "Must be a string of credits or a whole number.")
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", billing.FieldError("threshold", "Must be a string of credits or a whole number.")
	}
	return n.String(), nil
}

// APIDeleteAlertRule: DELETE /api/v1/accounts/{id}/alert-rules/{rule_id}.
func (h *Handlers) APIDeleteAlertRule(c echo.Context) error {
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	if err := h.svc.DeleteAlertRule(c.Request().Context(), a.ID, c.Param("rule_id"), apiOp(c, "", "")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
