package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"creditline/billing"
	"github.com/labstack/echo/v4"
)

type accountJSON struct {
	ID             string          `json:"id"`
	ExternalID     *string         `json:"external_id"`
	Name           string          `json:"name"`
	Status         string          `json:"status"`
	StatusReason   string          `json:"status_reason,omitempty"`
	Plan           string          `json:"plan"`
	Balance        billing.Credits `json:"balance"`
	Reserved       billing.Credits `json:"reserved"`
	Available      billing.Credits `json:"available"`
	OverdraftLimit billing.Credits `json:"overdraft_limit"`
	CreatedAt      time.Time       `json:"created_at"`
}

func toAccountJSON(b billing.BalanceSummary) accountJSON {
	a := b.Account
	return accountJSON{ID: a.ID, ExternalID: a.ExternalID, Name: a.Name, Status: a.Status, StatusReason: a.StatusReason,
		Plan: a.PlanKey, Balance: b.Balance, Reserved: b.Reserved, Available: b.Available, OverdraftLimit: a.OverdraftLimit, CreatedAt: a.CreatedAt}
}

// APICreateAccount: POST /api/v1/accounts (platform keys).
func (h *Handlers) APICreateAccount(c echo.Context) error {
	if err := requirePlatform(c); err != nil {
		return err
	}
	var req struct {
		ExternalID string `json:"external_id"`
		Name       string `json:"name"`
		Email      string `json:"email"`
		Trial      bool   `json:"trial"`
	}
	if _, err := decode(c, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.ExternalID) == "" {
		return billing.FieldError("external_id", "Required: your own id for this customer, used to address the account as external:<id>.")
	}
	a, err := h.svc.CreateAccount(c.Request().Context(), billing.CreateAccountInput{Name: req.Name, ExternalID: req.ExternalID, Email: req.Email, Trial: req.Trial, Actor: "key:" + apiKey(c).ID})
	if err != nil {
		return err
	}
	b, err := h.svc.Balance(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toAccountJSON(b))
}

// APIGetAccount: GET /api/v1/accounts/{id}.
func (h *Handlers) APIGetAccount(c echo.Context) error {
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	b, err := h.svc.Balance(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAccountJSON(b))
}

type grantJSON struct {
	ID          string          `json:"id"`
	Account     string          `json:"account,omitempty"`
	Source      string          `json:"source"`
	Credits     billing.Credits `json:"credits,omitempty"`
	Remaining   billing.Credits `json:"remaining"`
	Priority    int             `json:"priority"`
	EffectiveAt *time.Time      `json:"effective_at,omitempty"`
	ExpiresAt   *time.Time      `json:"expires_at"`
	Reason      string          `json:"reason,omitempty"`
	CreatedAt   *time.Time      `json:"created_at,omitempty"`
}

// APIBalance: GET /api/v1/accounts/{id}/balance.
func (h *Handlers) APIBalance(c echo.Context) error {
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	b, err := h.svc.Balance(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	grants := make([]grantJSON, 0, len(b.Grants))
	for _, g := range b.Grants {
		grants = append(grants, grantJSON{ID: g.ID, Source: g.Source, Remaining: g.Remaining, ExpiresAt: g.ExpiresAt, Priority: g.Priority})
	}
	now := h.svc.Now()
	var limit *billing.Credits
	if b.Account.SpendLimit != nil {
		limit = b.Account.SpendLimit
	}
	return c.JSON(http.StatusOK, map[string]any{
		"account": a.ID, "balance": b.Balance, "reserved": b.Reserved, "available": b.Available,
		"overdraft_limit": b.OverdraftLimit, "grants": grants,
		"period": map[string]any{"spent": b.Account.SpentThisPeriod(now), "limit": limit, "mode": b.Account.SpendLimitMode,
			"resets_at": b.Account.PeriodResetsAt(now).Format(time.RFC3339)},
	})
}

// APIGrant: POST /api/v1/accounts/{id}/grants (platform keys).
func (h *Handlers) APIGrant(c echo.Context) error {
	if err := requirePlatform(c); err != nil {
		return err
	}
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	var req struct {
		Credits        json.RawMessage `json:"credits"`
		Source         string          `json:"source"`
		Reason         string          `json:"reason"`
		ExpiresAt      *time.Time      `json:"expires_at"`
		Priority       *int            `json:"priority"`
		IdempotencyKey string          `json:"idempotency_key"`
	}
	if _, err := decode(c, &req); err != nil {
		return err
	}
	credits, err := parseCredits("credits", req.Credits)
	if err != nil {
		return err
	}
	var v billing.Validation
	if credits == nil {
		v.Add("credits", "Required: a decimal string such as \"100\" or \"12.5\".")
	}
	if req.IdempotencyKey == "" {
		v.Add("idempotency_key", "Required: a unique key per grant, so a retry never grants twice.")
	}
	if req.Source == "" {
		v.Add("source", "Required: promo, trial, adjustment, purchase, subscription, auto_recharge or refund_restore.")
	}
	if err := v.Err(); err != nil {
		return err
	}
	res, err := h.svc.AuditedGrant(c.Request().Context(), billing.GrantInput{AccountID: a.ID, Source: req.Source, Amount: *credits,
		Priority: req.Priority, ExpiresAt: req.ExpiresAt, IdempotencyKey: req.IdempotencyKey, Actor: "key:" + apiKey(c).ID, Reason: req.Reason}, apiOp(c, "", ""))
	if err != nil {
		return err
	}
	g := res.Grant
	return created(c, res.Replayed, grantJSON{ID: g.ID, Account: g.AccountID, Source: g.Source, Credits: g.Amount, Remaining: g.Remaining,
		Priority: g.Priority, EffectiveAt: &g.EffectiveAt, ExpiresAt: g.ExpiresAt, Reason: g.Reason, CreatedAt: &g.CreatedAt})
}

type entryJSON struct {
	ID           int64           `json:"id"`
	Kind         string          `json:"kind"`
	Amount       billing.Credits `json:"amount"`
	BalanceAfter billing.Credits `json:"balance_after"`
	Grant        *string         `json:"grant"`
	Debit        *string         `json:"debit"`
	Reservation  *string         `json:"reservation"`
	Actor        string          `json:"actor"`
	Reason       string          `json:"reason"`
	CreatedAt    time.Time       `json:"created_at"`
}

// APILedger: GET /api/v1/accounts/{id}/ledger, newest first, cursor-paginated.
func (h *Handlers) APILedger(c echo.Context) error {
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	before, err := idCursor(c)
	if err != nil {
		return err
	}
	es, err := h.svc.Ledger(c.Request().Context(), a.ID, before, limit+1)
	if err != nil {
		return err
	}
	out := list[entryJSON]{Data: []entryJSON{}}
	for i, e := range es {
		if i == limit {
			cur := nextIDCursor(es[i-1].ID)
			out.NextCursor = &cur
			break
		}
		out.Data = append(out.Data, entryJSON{ID: e.ID, Kind: e.Kind, Amount: e.Amount, BalanceAfter: e.BalanceAfter, Grant: e.GrantID,
			Debit: e.DebitID, Reservation: e.HoldID, Actor: e.Actor, Reason: e.Reason, CreatedAt: e.CreatedAt})
	}
	return c.JSON(http.StatusOK, out)
}

// APICreateAccountKey: POST /api/v1/accounts/{id}/api-keys (platform keys).
func (h *Handlers) APICreateAccountKey(c echo.Context) error {
	if err := requirePlatform(c); err != nil {
		return err
	}
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	var req struct {
		Name string `json:"name"`
	}
	if _, err := decode(c, &req); err != nil {
		return err
	}
	k, raw, err := h.svc.CreateAccountKey(c.Request().Context(), a.ID, req.Name, apiOp(c, "", ""))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": k.ID, "key": raw, "name": k.Name, "prefix": k.Prefix, "account": a.ID, "created_at": k.CreatedAt})
}

// APIEntitlements: GET /api/v1/accounts/{id}/entitlements.
func (h *Handlers) APIEntitlements(c echo.Context) error {
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	p, err := h.svc.AccountPlan(c.Request().Context(), a)
	if err != nil {
		return err
	}
	e := p.Entitlements
	return c.JSON(http.StatusOK, map[string]any{"plan": p.Key, "features": e.Features(), "priority": e.Priority,
		"rate_limit_per_min": e.RateLimitPerMin, "max_active_holds": e.MaxActiveHolds, "team_seats": e.TeamSeats,
		"multiplier": p.Multiplier.Or1()})
}

// APIActions: GET /api/v1/actions; an account key sees its own plan's prices.
func (h *Handlers) APIActions(c echo.Context) error {
	mult := billing.MultiplierOne
	plan := ""
	if k := apiKey(c); k.Kind == billing.KeyAccount && k.AccountID != nil {
		a, err := h.account(c, *k.AccountID)
		if err != nil {
			return err
		}
		p, err := h.svc.AccountPlan(c.Request().Context(), a)
		if err != nil {
			return err
		}
		mult, plan = p.Multiplier.Or1(), p.Key
	}
	book, err := h.svc.Live().Current(h.svc.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"price_version": book.Version(), "plan": plan, "multiplier": mult, "data": book.Catalog(mult)})
}
