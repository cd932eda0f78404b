package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"creditline/billing"
	"github.com/labstack/echo/v4"
)

// apiOp is the audit identity of an API request: its key and request id.
func apiOp(c echo.Context, reason, idemKey string) billing.Op {
	return billing.Op{Actor: billing.KeyActor(apiKey(c).ID), RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
		Reason: reason, IdempotencyKey: idemKey}
}

type spendLimitJSON struct {
	Credits billing.Credits `json:"credits"`
	Mode    string          `json:"mode"`
}

// operatorAccountJSON is the account as PATCH answers it: the account and its settings.
type operatorAccountJSON struct {
	accountJSON
	Email      string          `json:"email"`
	SpendLimit *spendLimitJSON `json:"spend_limit"`
}

// APIUpdateAccount: PATCH /api/v1/accounts/{id}. Platform keys change every field; an
// account key only status (active/paused) and spend_limit, anything else is 403 naming
// the fields.
func (h *Handlers) APIUpdateAccount(c echo.Context) error {
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	var req struct {
		Name           *string         `json:"name"`
		Email          *string         `json:"email"`
		Plan           *string         `json:"plan"`
		Status         *string         `json:"status"`
		OverdraftLimit json.RawMessage `json:"overdraft_limit"`
		SpendLimit     json.RawMessage `json:"spend_limit"`
		Reason         string          `json:"reason"`
	}
	if _, err := decode(c, &req); err != nil {
		return err
	}
	u := billing.AccountUpdate{AccountID: a.ID, Name: req.Name, Email: req.Email, Plan: req.Plan, Status: req.Status,
		Op: apiOp(c, req.Reason, "")}
	if apiKey(c).Kind == billing.KeyAccount {
		u.Scope = billing.ScopeAccountKey
	}
	if u.OverdraftLimit, err = parseCredits("overdraft_limit", req.OverdraftLimit); err != nil {
		return err
	}
	if u.SpendLimit, err = parseSpendLimit(req.SpendLimit); err != nil {
		return err
	}
	res, err := h.svc.UpdateAccount(c.Request().Context(), u)
	if err != nil {
		return err
	}
	b, err := h.svc.Balance(c.Request().Context(), res.Account.ID)
	if err != nil {
		return err
	}
	out := operatorAccountJSON{accountJSON: toAccountJSON(b), Email: b.Account.Email}
	if l := b.Account.SpendLimit; l != nil {
		out.SpendLimit = &spendLimitJSON{Credits: *l, Mode: b.Account.SpendLimitMode}
	}
	return c.JSON(http.StatusOK, out)
}

// parseSpendLimit reads spend_limit: absent (nil), null (clear) or {credits, mode}.
func parseSpendLimit(raw json.RawMessage) (*billing.SpendLimitChange, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, nil
	}
	if string(raw) == "null" {
		return &billing.SpendLimitChange{Clear: true}, nil
	}
	var sl struct {
		Credits json.RawMessage `json:"credits"`
		Mode    string          `json:"mode"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sl); err != nil {
		return nil, billing.FieldError("spend_limit", "must be null or {\"credits\": \"100\", \"mode\": \"hard\"|\"soft\"}")
	}
	cr, err := parseCredits("spend_limit.credits", sl.Credits)
	if err != nil {
		return nil, err
	}
	if cr == nil {
		return nil, billing.FieldError("spend_limit.credits", "Required: a decimal string such as \"100\".")
	}
	return &billing.SpendLimitChange{Credits: *cr, Mode: sl.Mode}, nil
}

// APIRevokeGrant: POST /api/v1/accounts/{id}/grants/{grant_id}/revoke (platform keys).
func (h *Handlers) APIRevokeGrant(c echo.Context) error {
	if err := requirePlatform(c); err != nil {
		return err
	}
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	var req struct {
		Credits        json.RawMessage `json:"credits"`
		Reason         string          `json:"reason"`
		IdempotencyKey string          `json:"idempotency_key"`
	}
	if _, err := decode(c, &req); err != nil {
		return err
	}
	credits, err := parseCredits("credits", req.Credits)
	if err != nil {
		return err
	}
	res, err := h.svc.RevokeGrant(c.Request().Context(), billing.RevokeGrantInput{AccountID: a.ID, GrantID: c.Param("grant_id"),
		Credits: credits, Op: apiOp(c, req.Reason, req.IdempotencyKey)})
	if err != nil {
		return err
	}
	if res.Replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	g := res.Grant
	return c.JSON(http.StatusOK, grantJSON{ID: g.ID, Account: g.AccountID, Source: g.Source, Credits: g.Amount, Remaining: g.Remaining,
		Priority: g.Priority, EffectiveAt: &g.EffectiveAt, ExpiresAt: g.ExpiresAt, Reason: g.Reason, CreatedAt: &g.CreatedAt})
}

type auditActorJSON struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

type auditJSON struct {
	ID        int64           `json:"id"`
	At        time.Time       `json:"at"`
	Actor     auditActorJSON  `json:"actor"`
	Action    string          `json:"action"`
	Account   *string         `json:"account"`
	Reason    string          `json:"reason"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
	RequestID string          `json:"request_id"`
}

func rawOrNull(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

// APIAuditLog: GET /api/v1/audit-log?account=&actor= (platform keys), newest first.
func (h *Handlers) APIAuditLog(c echo.Context) error {
	if err := requirePlatform(c); err != nil {
		return err
	}
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	f := billing.AuditFilter{Limit: limit}
	if ref := c.QueryParam("account"); ref != "" {
		a, err := h.account(c, ref)
		if err != nil {
			return err
		}
		f.AccountID = a.ID
	}
	if s := c.QueryParam("actor"); s != "" {
		act, ok := billing.ParseActor(s)
		if !ok {
			return billing.FieldError("actor", "must be a kind (user, api_key, webhook, job, system) or kind:id, e.g. key:key_... or user:usr_...")
		}
		f.Actor = &act
	}
	if f.BeforeID, err = idCursor(c); err != nil {
		return err
	}
	p, err := h.svc.AuditLog(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := list[auditJSON]{Data: []auditJSON{}}
	for _, e := range p.Entries {
		out.Data = append(out.Data, auditJSON{ID: e.ID, At: e.At, Actor: auditActorJSON{Kind: e.ActorKind, ID: e.ActorID}, Action: e.Action,
			Account: e.AccountID, Reason: e.Reason, Before: rawOrNull(e.Before), After: rawOrNull(e.After), RequestID: e.RequestID})
	}
	if p.Next != 0 {
		cur := nextIDCursor(p.Next)
		out.NextCursor = &cur
	}
	return c.JSON(http.StatusOK, out)
}
