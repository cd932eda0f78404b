package handlers

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"creditline/billing"
	"creditline/views/components"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// usagePageSize is how many events the usage page shows per "load more".
const usagePageSize = 50

// usageForm reads the usage filters from the query: action, model, and dates from and to
// (YYYY-MM-DD, both inclusive, UTC). A bad date or cursor is a field error.
func usageForm(c echo.Context, accountID, accountQ string) (billing.UsageFilter, pages.UsageFilters) {
	fv := pages.UsageFilters{Action: strings.TrimSpace(c.QueryParam("action")), Model: strings.TrimSpace(c.QueryParam("model")),
		From: strings.TrimSpace(c.QueryParam("from")), To: strings.TrimSpace(c.QueryParam("to")), AccountQ: accountQ}
	f := billing.UsageFilter{AccountID: accountID, Action: fv.Action, Model: fv.Model, Limit: usagePageSize}
	var v billing.Validation
	day := func(field, s string) *time.Time {
		if s == "" {
			return nil
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil || !filterYear(t) {
			v.Add(field, "Use a date like 2026-01-31 (years 1970 to 9998).")
			return nil
		}
		return &t
	}
	f.From = day("from", fv.From)
	if to := day("to", fv.To); to != nil {
		end := to.AddDate(0, 0, 1) // through the end of that day
		f.To = &end
	}
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		v.Add("to", "Must be on or after the start date.")
		f.From, f.To = nil, nil
	}
	if fv.Member = strings.TrimSpace(c.QueryParam("member")); fv.Member != "" && (len(fv.Member) > maxIDLen || !strings.HasPrefix(fv.Member, "mem_")) {
		v.Add("member", "Choose a member from the list.")
		fv.Member = ""
	}
	f.MemberID = fv.Member
	if cur := c.QueryParam("cursor"); cur != "" {
		t, id, ok := parseUsageCursor(cur)
		if !ok {
			v.Add("cursor", "This link to older events is not valid; start again from the newest.")
		} else {
			f.AfterTime, f.AfterID, fv.Cursor = &t, id, cur
		}
	}
	if err := v.Err(); err != nil {
		fv.Errors, _ = fieldErrors(err)
	}
	return f, fv
}

// Usage: GET /usage — the history, newest first, filtered, one page at a time.
func (h *Handlers) Usage(c echo.Context) error {
	acc, m, q, err := h.customerAccount(c)
	if err != nil {
		return err
	}
	f, fv := usageForm(c, acc.ID, q)
	f.Viewer = &m
	l, err := h.svc.UsageListing(c.Request().Context(), f, true)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if len(fv.Errors) > 0 {
		status = formStatus
	}
	v := usageView(acc, fv, l)
	if v.Members, err = h.usageMembers(c, acc, m); err != nil {
		return err
	}
	return render(c, status, pages.UsagePage(v))
}

// usageMembers are the member filter's choices: offered to owners and admins of a team account.
func (h *Handlers) usageMembers(c echo.Context, acc billing.Account, m billing.Membership) ([]components.Option, error) {
	if !acc.IsTeam || !billing.Can(m.Role, billing.ActViewAllUsage) {
		return nil, nil
	}
	t, err := h.svc.Team(c.Request().Context(), acc, m)
	if err != nil {
		return nil, err
	}
	opts := []components.Option{{Value: "", Label: "All members"}}
	for _, mem := range t.Members {
		opts = append(opts, components.Option{Value: mem.ID, Label: billing.MemberLabel(mem)})
	}
	return opts, nil
}

// UsageMore: GET /usage/more — the next page of rows and a new "load more" (htmx).
func (h *Handlers) UsageMore(c echo.Context) error {
	acc, m, q, err := h.customerAccount(c)
	if err != nil {
		return err
	}
	f, fv := usageForm(c, acc.ID, q)
	f.Viewer = &m
	if len(fv.Errors) > 0 {
		return billing.Errorf(billing.EInvalid, "%s", firstError(fv.Errors))
	}
	l, err := h.svc.UsageListing(c.Request().Context(), f, false)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.UsageRows(usageView(acc, fv, l), true))
}

func usageView(acc billing.Account, fv pages.UsageFilters, l billing.UsageListing) pages.Usage {
	v := pages.Usage{Account: acc, Filters: fv, Listing: l}
	if l.More {
		v.NextCursor = usageCursor(l.Events[len(l.Events)-1])
	}
	return v
}

func firstError(m map[string]string) string {
	k := slices.Min(slices.Collect(maps.Keys(m)))
	return k + ": " + m[k]
}

// UsageEvent: GET /usage/:id — one event with its breakdown; another account's id is a 404.
func (h *Handlers) UsageEvent(c echo.Context) error {
	acc, m, q, err := h.customerAccount(c)
	if err != nil {
		return err
	}
	ev, err := h.svc.UsageEventAs(c.Request().Context(), m, acc.ID, c.Param("id"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.UsageEventPage(pages.UsageEventView{Account: acc, Event: ev,
		Names: h.svc.ActionNames(h.svc.Now()), AccountQ: q}))
}

// csvPageSize is how many events an export reads, writes and flushes at a time.
const csvPageSize = 1000

var csvHeader = []string{"occurred_at", "event_id", "action", "model", "attributes", "quantities", "credits",
	"price_version", "idempotency_key", "batch", "reservation_id", "api_key_id", "warnings", "metadata", "member_id"}

// UsageCSV: GET /usage.csv — exactly the rows the filters select, streamed page by page (one
// page in memory), escaped by encoding/csv. A failure after the first byte aborts the
// connection, so a download is never silently cut short.
func (h *Handlers) UsageCSV(c echo.Context) error {
	acc, m, q, err := h.customerAccount(c)
	if err != nil {
		return err
	}
	f, fv := usageForm(c, acc.ID, q)
	f.Viewer = &m
	if len(fv.Errors) > 0 {
		return billing.Errorf(billing.EInvalid, "%s", firstError(fv.Errors))
	}
	f.AfterTime, f.AfterID = nil, ""
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+csvName(acc.ID, fv)+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write(csvHeader)
	err = h.svc.EachUsage(c.Request().Context(), f, csvPageSize, func(evs []billing.UsageEvent) error {
		for i := range evs {
			if err := cw.Write(csvRow(&evs[i])); err != nil {
				return err
			}
		}
		cw.Flush()
		w.Flush()
		return cw.Error()
	})
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	cw.Flush()
	return cw.Error()
}

func csvName(accountID string, fv pages.UsageFilters) string {
	from, to := fv.From, fv.To
	if from == "" {
		from = "start"
	}
	if to == "" {
		to = "now"
	}
	name := "creditline-usage-" + accountID + "-" + from + "-to-" + to
	if fv.Action != "" {
		name += "-" + fv.Action
	}
	if fv.Member != "" {
		name += "-" + fv.Member
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, name) + ".csv"
}

func csvRow(e *billing.UsageEvent) []string {
	hold := ""
	if e.HoldID != nil {
		hold = *e.HoldID
	}
	meta := ""
	if len(e.Metadata) > 0 && string(e.Metadata) != "null" {
		meta = string(compactJSON(e.Metadata))
	}
	return []string{e.OccurredAt.UTC().Format(time.RFC3339Nano), e.ID, e.Action, cell(e.Model), cell(pairs(e.Attributes)),
		quantities(e.Quantities), e.Credits.String(), strconv.Itoa(e.PriceVersion), cell(e.IdempotencyKey),
		strconv.FormatBool(e.Batch), hold, e.APIKeyID, strings.Join(e.Warnings, ";"), cell(meta), e.MemberID}
}

// cell keeps a text value that a spreadsheet would run as a formula (=, +, -, @) inert by
// prefixing an apostrophe; encoding/csv does the quoting.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func pairs(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ";")
}

func quantities(m map[string]billing.Quantity) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k].String()
	}
	return strings.Join(parts, ";")
}

func compactJSON(raw json.RawMessage) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// UsageCursor is the "load more" cursor that starts after the event at t with id (for tools
// that page deep into the history, such as cmd/pagebench).
func UsageCursor(t time.Time, id string) string {
	return usageCursor(billing.UsageEvent{OccurredAt: t, ID: id})
}
