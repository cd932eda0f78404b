package handlers

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"creditline/billing"
	"github.com/labstack/echo/v4"
)

// actionRequest is the shared shape of estimate, usage and reservation bodies.
type actionRequest struct {
	Account    string            `json:"account"`
	Action     string            `json:"action"`
	Quantities rawQuantities     `json:"quantities"`
	Attributes map[string]string `json:"attributes"`
	// Member attributes the action to a member (mem_... or email:<address>); omitted when
	// empty so the canonical body of older requests (their idempotency hash) is unchanged.
	Member string `json:"member,omitempty"`
}

// check validates the shared fields and returns the parsed quantities.
func (r actionRequest) check(v *billing.Validation) map[string]billing.Quantity {
	if r.Account == "" {
		v.Add("account", "Required: an account id (acc_...) or external:<your id>.")
	}
	if r.Action == "" {
		v.Add("action", "Required: an action key such as chat.completion (see GET /api/v1/actions).")
	}
	if len(r.Member) > billing.MaxMemberRef {
		v.Add("member", "Name a member as mem_... or email:<address>.")
	}
	qs, err := r.Quantities.parse()
	var be *billing.Error
	if errors.As(err, &be) {
		for f, m := range be.Fields {
			v.Add(f, "%s", m)
		}
	}
	return qs
}

type usageRequest struct {
	actionRequest
	IdempotencyKey string          `json:"idempotency_key"`
	OccurredAt     *time.Time      `json:"occurred_at"`
	Metadata       json.RawMessage `json:"metadata"`
}

func (r usageRequest) validate() (map[string]billing.Quantity, error) {
	var v billing.Validation
	qs := r.check(&v)
	if strings.TrimSpace(r.IdempotencyKey) == "" {
		v.Add("idempotency_key", "Required: a unique key per event, so a retry never charges twice.")
	}
	if len(r.IdempotencyKey) > 255 {
		v.Add("idempotency_key", "Use at most 255 characters.")
	}
	var be *billing.Error
	if errors.As(billing.CheckMetadata(r.Metadata), &be) {
		v.Add("metadata", "%s", be.Fields["metadata"])
	}
	return qs, v.Err()
}

type usageJSON struct {
	ID           string          `json:"id"`
	Account      string          `json:"account"`
	Action       string          `json:"action"`
	Credits      billing.Credits `json:"credits"`
	Balance      billing.Credits `json:"balance"`
	Available    billing.Credits `json:"available"`
	PriceVersion int             `json:"price_version"`
	Warnings     []string        `json:"warnings"`
}

func toUsageJSON(r billing.UsageResult) usageJSON {
	w := r.Warnings
	if w == nil {
		w = []string{}
	}
	return usageJSON{ID: r.Event.ID, Account: r.Event.AccountID, Action: r.Event.Action, Credits: r.Event.Credits,
		Balance: r.Balance, Available: r.Available, PriceVersion: r.Event.PriceVersion, Warnings: w}
}

// usageInput leaves the account ref to billing, which authorises it with the key.
func usageInput(c echo.Context, req usageRequest, qs map[string]billing.Quantity, hash string, batch bool) billing.UsageInput {
	return billing.UsageInput{AccountID: req.Account, Action: req.Action, Quantities: qs, Attributes: req.Attributes,
		IdempotencyKey: req.IdempotencyKey, RequestHash: hash, OccurredAt: req.OccurredAt, Metadata: req.Metadata,
		Key: apiKey(c), ClientIP: c.RealIP(), Batch: batch, Member: req.Member}
}

// APIUsage: POST /api/v1/usage — charge one action, idempotently.
func (h *Handlers) APIUsage(c echo.Context) error {
	var req usageRequest
	hash, err := decode(c, &req)
	if err != nil {
		return err
	}
	qs, err := req.validate()
	if err != nil {
		return err
	}
	r, err := h.svc.ChargeUsage(c.Request().Context(), usageInput(c, req, qs, hash, false))
	if err != nil {
		return err
	}
	return created(c, r.Replayed, toUsageJSON(r))
}

// MaxBatch is the most events one batch request may carry.
const MaxBatch = 1000

type batchResult struct {
	Index   int              `json:"index"`
	Status  string           `json:"status"`
	ID      string           `json:"id,omitempty"`
	Credits *billing.Credits `json:"credits,omitempty"`
	Error   *APIError        `json:"error,omitempty"`
}

func toAPIError(err error) *APIError { return NewAPIError(err, billing.ErrorMessage(err)) }

// APIUsageBatch: POST /api/v1/usage/batch — up to 1,000 events, each priced with the batch
// multiplier and settled on its own.
func (h *Handlers) APIUsageBatch(c echo.Context) error {
	var req struct {
		Events []json.RawMessage `json:"events"`
	}
	if _, err := decode(c, &req); err != nil {
		return err
	}
	switch {
	case req.Events == nil:
		return billing.FieldError("events", "Required: an array of usage events.")
	case len(req.Events) == 0:
		return billing.FieldError("events", "must hold at least one event")
	case len(req.Events) > MaxBatch:
		return billing.FieldError("events", "holds %d events; at most %d per batch", len(req.Events), MaxBatch)
	}
	results := make([]batchResult, len(req.Events))
	var ins []billing.UsageInput
	var at []int
	for i, raw := range req.Events {
		results[i] = batchResult{Index: i}
		in, err := batchEvent(c, raw)
		if err != nil {
			results[i].Status, results[i].Error = "failed", toAPIError(prefixFields(err, i))
			continue
		}
		ins, at = append(ins, in), append(at, i)
	}
	rs, err := h.svc.ChargeUsageBatch(c.Request().Context(), ins)
	if err != nil {
		return err
	}
	for j, r := range rs {
		res := &results[at[j]]
		switch {
		case r.Err != nil:
			res.Status, res.Error = "failed", toAPIError(r.Err)
		case r.Replayed:
			res.Status, res.ID, res.Credits = "replayed", r.Event.ID, &r.Event.Credits
		default:
			res.Status, res.ID, res.Credits = "created", r.Event.ID, &r.Event.Credits
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"results": results})
}

func batchEvent(c echo.Context, raw json.RawMessage) (billing.UsageInput, error) {
	var ev usageRequest
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return billing.UsageInput{}, jsonError(err)
	}
	qs, err := ev.validate()
	if err != nil {
		return billing.UsageInput{}, err
	}
	canon, _ := json.Marshal(ev)
	return usageInput(c, ev, qs, hashBytes(canon), true), nil
}

// prefixFields names fields of event i as events[i].field.
func prefixFields(err error, i int) error {
	var be *billing.Error
	if !errors.As(err, &be) || len(be.Fields) == 0 {
		return err
	}
	out := &billing.Error{Code: be.Code, Message: be.Message, Details: be.Details, Fields: map[string]string{}}
	for f, m := range be.Fields {
		out.Fields["events["+itoa(i)+"]."+f] = m
	}
	return out
}

type estimateRequest struct {
	actionRequest
	Batch bool `json:"batch"`
}

func (r estimateRequest) validate() (map[string]billing.Quantity, error) {
	var v billing.Validation
	qs := r.check(&v)
	return qs, v.Err()
}

// APIEstimate: POST /api/v1/estimate — prices and says whether a debit would pass; never charges.
func (h *Handlers) APIEstimate(c echo.Context) error {
	var req estimateRequest
	if _, err := decode(c, &req); err != nil {
		return err
	}
	qs, err := req.validate()
	if err != nil {
		return err
	}
	e, err := h.svc.EstimateForMember(c.Request().Context(), *apiKey(c), req.Account, req.Member, req.Action, qs, req.Attributes, req.Batch)
	if err != nil {
		return err
	}
	body := map[string]any{"credits": e.Quote.Credits, "allowed": e.Allowed, "available_after": e.AvailableAfter,
		"price_version": e.Quote.PriceVersion, "breakdown": e.Quote.Breakdown}
	if e.Reason != "" {
		body["reason"] = e.Reason
	}
	return c.JSON(http.StatusOK, body)
}

type usageEventJSON struct {
	ID             string                      `json:"id"`
	Action         string                      `json:"action"`
	Quantities     map[string]billing.Quantity `json:"quantities"`
	Attributes     map[string]string           `json:"attributes"`
	Credits        billing.Credits             `json:"credits"`
	PriceVersion   int                         `json:"price_version"`
	Breakdown      billing.Breakdown           `json:"breakdown"`
	IdempotencyKey string                      `json:"idempotency_key"`
	Reservation    *string                     `json:"reservation"`
	Metadata       json.RawMessage             `json:"metadata,omitempty"`
	Warnings       []string                    `json:"warnings"`
	OccurredAt     time.Time                   `json:"occurred_at"`
}

// APIListUsage: GET /api/v1/accounts/{id}/usage?action=&model=&from=&to=&limit=&cursor=
func (h *Handlers) APIListUsage(c echo.Context) error {
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	f, err := usageFilter(c, a.ID)
	if err != nil {
		return err
	}
	if k := apiKey(c); k.MemberID != nil { // a member's key reads as that member (their own usage)
		m, err := h.svc.APIMembership(c.Request().Context(), *k, a)
		if err != nil {
			return err
		}
		f.Viewer = &m
	}
	limit := f.Limit
	f.Limit++
	evs, err := h.svc.UsagePage(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := list[usageEventJSON]{Data: []usageEventJSON{}}
	for i, e := range evs {
		if i == limit {
			cur := usageCursor(evs[i-1])
			out.NextCursor = &cur
			break
		}
		if e.Quantities == nil {
			e.Quantities = map[string]billing.Quantity{}
		}
		if e.Attributes == nil {
			e.Attributes = map[string]string{}
		}
		out.Data = append(out.Data, usageEventJSON{ID: e.ID, Action: e.Action, Quantities: e.Quantities, Attributes: e.Attributes,
			Credits: e.Credits, PriceVersion: e.PriceVersion, Breakdown: e.Breakdown, IdempotencyKey: e.IdempotencyKey,
			Reservation: e.HoldID, Metadata: e.Metadata, Warnings: e.Warnings, OccurredAt: e.OccurredAt})
	}
	return c.JSON(http.StatusOK, out)
}

// usageFilter reads the filters shared by the API and the usage page.
func usageFilter(c echo.Context, accountID string) (billing.UsageFilter, error) {
	limit, err := pageLimit(c)
	if err != nil {
		return billing.UsageFilter{}, err
	}
	f := billing.UsageFilter{AccountID: accountID, Action: c.QueryParam("action"), Model: c.QueryParam("model"), Limit: limit}
	var v billing.Validation
	for name, dst := range map[string]**time.Time{"from": &f.From, "to": &f.To} {
		if s := c.QueryParam(name); s != "" {
			t, err := parseTimeParam(s)
			if err != nil || !filterYear(t) {
				v.Add(name, "must be a date (2026-01-31) or an RFC 3339 time, in the years 1970 to 9998")
				continue
			}
			*dst = &t
		}
	}
	if cur := c.QueryParam("cursor"); cur != "" {
		t, id, ok := parseUsageCursor(cur)
		if !ok {
			v.Add("cursor", "is not a cursor this endpoint returned")
		}
		f.AfterTime, f.AfterID = &t, id
	}
	if m := c.QueryParam("member"); m != "" {
		if !strings.HasPrefix(m, "mem_") || len(m) > 100 {
			v.Add("member", "must be a member id (mem_...)")
		}
		f.MemberID = m
	}
	return f, v.Err()
}

// filterYear keeps date filters where PostgreSQL and the page's end-of-day arithmetic work.
func filterYear(t time.Time) bool { return t.Year() >= 1970 && t.Year() <= 9998 }

func parseTimeParam(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Parse("2006-01-02", s)
}

func usageCursor(e billing.UsageEvent) string {
	return base64.RawURLEncoding.EncodeToString([]byte(e.OccurredAt.UTC().Format(time.RFC3339Nano) + "|" + e.ID))
}

func parseUsageCursor(s string) (time.Time, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", false
	}
	ts, id, ok := strings.Cut(string(b), "|")
	t, err := time.Parse(time.RFC3339Nano, ts)
	// The id reaches SQL: a forged cursor must hold text PostgreSQL accepts.
	return t, id, ok && err == nil && id != "" && len(id) <= 64 && billing.CheckText("cursor", id) == nil
}
