package store

import (
	"context"
	"time"

	"creditline/billing"
	"creditline/billing/reconcile"
	"github.com/lib/pq"
)

// Reconcile implements reconcile.Store: recorded usage by day and model (usage_units_daily,
// kept by the revenue consumer) and the vendor imports (migration 0023).
type Reconcile struct{ s *Store }

// Reconcile is the reconciliation store.
func (s *Store) Reconcile() Reconcile { return Reconcile{s: s} }

var _ reconcile.Store = Reconcile{}
var _ reconcile.Tx = recTx{}

type recTx struct{ t *tx }

func (r Reconcile) InTx(ctx context.Context, fn func(reconcile.Tx) error) error {
	return r.s.inTx(ctx, func(t *tx) error { return fn(recTx{t: t}) })
}

func (r Reconcile) RecordedBetween(ctx context.Context, from, to time.Time) ([]reconcile.Recorded, error) {
	var out []reconcile.Recorded
	err := r.s.db.SelectContext(ctx, &out, `SELECT day, model, units, vendor_cost_micro_usd FROM usage_units_daily
		WHERE day BETWEEN $1::date AND $2::date ORDER BY day, model`, from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly))
	return out, mapErr("recorded usage", err)
}

func (r recTx) InsertImport(ctx context.Context, im reconcile.Import) error {
	_, err := r.t.tx.ExecContext(ctx, `INSERT INTO vendor_imports (id, filename, format, rows, flagged, actor, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, im.ID, im.Filename, im.Format, im.Rows, im.Flagged, im.Actor, im.CreatedAt)
	if err != nil {
		return mapErr("insert vendor import", err)
	}
	n := len(im.Lines)
	day, model := make([]time.Time, n), make([]string, n)
	vu, vc, ru, rc, fl := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]bool, n)
	for i, l := range im.Lines {
		day[i], model[i], vu[i], vc[i], ru[i], rc[i], fl[i] = l.Day, l.Model, l.VendorUnits, l.VendorCost, l.RecordedUnits, l.RecordedCost, l.Flagged
	}
	_, err = r.t.tx.ExecContext(ctx, `INSERT INTO vendor_import_rows (import_id, day, model, vendor_units, vendor_cost_micro,
			recorded_units, recorded_cost_micro, flagged)
		SELECT $1, * FROM unnest($2::date[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::boolean[])`,
		im.ID, dates(day), pq.StringArray(model), pq.Int64Array(vu), pq.Int64Array(vc), pq.Int64Array(ru), pq.Int64Array(rc), pq.BoolArray(fl))
	return mapErr("insert vendor import rows", err)
}

func (r recTx) InsertAudit(ctx context.Context, e billing.AuditEntry) error {
	return r.t.InsertAudit(ctx, e)
}

const importCols = `id, filename, format, rows, flagged, actor, created_at`

func (r Reconcile) Imports(ctx context.Context, limit int) ([]reconcile.Import, error) {
	var out []reconcile.Import
	err := r.s.db.SelectContext(ctx, &out, `SELECT `+importCols+` FROM vendor_imports ORDER BY created_at DESC, id DESC LIMIT $1`, limit)
	return out, mapErr("vendor imports", err)
}

func (r Reconcile) ImportByID(ctx context.Context, id string) (reconcile.Import, error) {
	var im reconcile.Import
	if err := r.s.db.GetContext(ctx, &im, `SELECT `+importCols+` FROM vendor_imports WHERE id = $1`, id); err != nil {
		return im, mapErr("vendor import", err)
	}
	err := r.s.db.SelectContext(ctx, &im.Lines, `SELECT day, model, vendor_units, vendor_cost_micro, recorded_units, recorded_cost_micro, flagged
		FROM vendor_import_rows WHERE import_id = $1 ORDER BY flagged DESC, day, model`, id)
	for i := range im.Lines {
		im.Lines[i].Day = im.Lines[i].Day.UTC()
	}
	return im, mapErr("vendor import rows", err)
}
