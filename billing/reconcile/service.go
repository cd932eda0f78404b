package reconcile

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"creditline/billing"
)

// VariancePercent: a row whose units or cost differ from the recorded figure by more than this
// share of the recorded figure is flagged.
const VariancePercent = 3

// Recorded is usage recorded on a day for a model.
type Recorded struct {
	Day       time.Time `db:"day"`
	Model     string    `db:"model"`
	Units     int64     `db:"units"`
	CostMicro int64     `db:"vendor_cost_micro_usd"`
}

// Line is one compared day and model.
type Line struct {
	Day           time.Time `db:"day"`
	Model         string    `db:"model"`
	VendorUnits   int64     `db:"vendor_units"`
	VendorCost    int64     `db:"vendor_cost_micro"`
	RecordedUnits int64     `db:"recorded_units"`
	RecordedCost  int64     `db:"recorded_cost_micro"`
	Flagged       bool      `db:"flagged"`
}

// Import is a vendor file kept with its result.
type Import struct {
	ID        string    `db:"id"`
	Filename  string    `db:"filename"`
	Format    string    `db:"format"`
	Rows      int       `db:"rows"`
	Flagged   int       `db:"flagged"`
	Actor     string    `db:"actor"`
	CreatedAt time.Time `db:"created_at"`
	Lines     []Line    `db:"-"`
}

// Store reads recorded usage and keeps imports (implemented in package store).
type Store interface {
	// RecordedBetween is recorded usage on days from..to (inclusive) by day and model.
	RecordedBetween(ctx context.Context, from, to time.Time) ([]Recorded, error)
	// InTx runs fn in one transaction.
	InTx(ctx context.Context, fn func(Tx) error) error
	// Imports lists the newest imports first, at most limit.
	Imports(ctx context.Context, limit int) ([]Import, error)
	// ImportByID reads one import with its lines. Errors: not_found.
	ImportByID(ctx context.Context, id string) (Import, error)
}

// Tx keeps an import and its audit entry together.
type Tx interface {
	InsertImport(ctx context.Context, im Import) error
	InsertAudit(ctx context.Context, e billing.AuditEntry) error
}

// Freshener brings the recorded rollups up to date before a comparison (revenue.Service).
type Freshener interface {
	Fresh(ctx context.Context) error
}

// Service imports vendor files.
type Service struct {
	store Store
	fresh Freshener
	now   func() time.Time
}

// New builds the service.
func New(st Store, fresh Freshener, now func() time.Time) *Service {
	return &Service{store: st, fresh: fresh, now: now}
}

// Differs says whether vendor differs from recorded by more than VariancePercent of recorded
// (anything at all when nothing was recorded).
func Differs(vendor, recorded int64) bool {
	d := vendor - recorded
	if d < 0 {
		d = -d
	}
	if recorded <= 0 {
		return d > 0
	}
	// d/recorded > 3/100 without division; a row's figures are at most 10^15, so d*100 fits.
	return d*100 > recorded*VariancePercent
}

// Compare lines every vendor row up with what was recorded that day for that model; recorded
// model-days inside the file's days that the vendor did not list are lines too (vendor 0).
func Compare(rows []Row, recorded []Recorded) []Line {
	type key struct {
		day   string
		model string
	}
	rec := map[key]Recorded{}
	days := map[string]bool{}
	for _, r := range rows {
		days[r.Day.Format(time.DateOnly)] = true
	}
	for _, r := range recorded {
		rec[key{r.Day.UTC().Format(time.DateOnly), r.Model}] = r
	}
	var out []Line
	used := map[key]bool{}
	for _, r := range rows {
		k := key{r.Day.Format(time.DateOnly), r.Model}
		used[k] = true
		got := rec[k]
		out = append(out, Line{Day: r.Day, Model: r.Model, VendorUnits: r.Units, VendorCost: r.CostMicro,
			RecordedUnits: got.Units, RecordedCost: got.CostMicro})
	}
	for k, r := range rec {
		// Usage without a model is no vendor's line.
		if !used[k] && days[k.day] && r.Model != "" && (r.Units != 0 || r.CostMicro != 0) {
			out = append(out, Line{Day: r.Day.UTC(), Model: r.Model, RecordedUnits: r.Units, RecordedCost: r.CostMicro})
		}
	}
	for i := range out {
		l := &out[i]
		l.Flagged = Differs(l.VendorUnits, l.RecordedUnits) || Differs(l.VendorCost, l.RecordedCost)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Day.Equal(out[j].Day) {
			return out[i].Day.Before(out[j].Day)
		}
		return out[i].Model < out[j].Model
	})
	return out
}

// AuditImport is the audit action of an import.
const AuditImport = "vendor_import.create"

// ImportInput is an uploaded vendor file.
type ImportInput struct {
	Filename string
	Data     []byte
}

// Import parses, compares and keeps a vendor file with its result, audited. A bad file is
// refused with its line and reason, and nothing is stored.
// Errors: invalid_request (field "file": the line and the reason).
func (s *Service) Import(ctx context.Context, in ImportInput, op billing.Op) (Import, error) {
	name := strings.TrimSpace(in.Filename)
	if len(name) > 200 || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return Import{}, billing.FieldError("file", "The file name must be at most 200 characters without control characters.")
	}
	format := ""
	switch lower := strings.ToLower(name); {
	case strings.HasSuffix(lower, ".csv"):
		format = "csv"
	case strings.HasSuffix(lower, ".json"):
		format = "json"
	}
	rows, format, err := Parse(in.Data, format)
	if err != nil {
		var le *LineError
		if errors.As(err, &le) {
			return Import{}, billing.FieldError("file", "%s", le.Error())
		}
		return Import{}, err
	}
	from, to := rows[0].Day, rows[0].Day
	for _, r := range rows {
		from, to = minTime(from, r.Day), maxTime(to, r.Day)
	}
	if err := s.fresh.Fresh(ctx); err != nil {
		return Import{}, err
	}
	rec, err := s.store.RecordedBetween(ctx, from, to)
	if err != nil {
		return Import{}, err
	}
	im := Import{ID: billing.NewID("vim"), Filename: name, Format: format, Rows: len(rows), Actor: op.Actor.Kind + ":" + op.Actor.ID,
		CreatedAt: s.now().UTC(), Lines: Compare(rows, rec)}
	for _, l := range im.Lines {
		if l.Flagged {
			im.Flagged++
		}
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.InsertImport(ctx, im); err != nil {
			return err
		}
		after := []byte(`{"import":"` + im.ID + `","rows":` + strconv.Itoa(im.Rows) + `,"flagged":` + strconv.Itoa(im.Flagged) + `}`)
		kind := op.Actor.Kind
		if kind == "" {
			kind = billing.ActorSystem
		}
		return tx.InsertAudit(ctx, billing.AuditEntry{At: im.CreatedAt, ActorKind: kind, ActorID: op.Actor.ID, Action: AuditImport,
			Reason: "vendor file " + name, After: after, RequestID: op.RequestID})
	})
	return im, err
}

// Imports lists recent imports, newest first.
func (s *Service) Imports(ctx context.Context) ([]Import, error) { return s.store.Imports(ctx, 20) }

// ImportByID reads one import with its lines. Errors: not_found.
func (s *Service) ImportByID(ctx context.Context, id string) (Import, error) {
	if len(id) > 64 {
		return Import{}, billing.Errorf(billing.ENotFound, "No import %s.", id[:64])
	}
	return s.store.ImportByID(ctx, id)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
