package reconcile_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/reconcile"
	"creditline/billing/revenue"
	"creditline/store"
	"creditline/store/pgtest"
	"github.com/jmoiron/sqlx"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// recordedDay is the usage of the demo's busiest model-day, summed from usage_events (not the
// rollup the service compares with).
type recordedDay struct {
	Day   time.Time `db:"day"`
	Model string    `db:"model"`
	Units int64     `db:"units"`
	Cost  int64     `db:"cost"`
}

func seeded(t *testing.T) (*sqlx.DB, *reconcile.Service, []recordedDay) {
	t.Helper()
	ctx := context.Background()
	db := pgtest.Fresh(t)
	st := store.New(db)
	svc := billing.NewService(st, billing.Options{})
	if _, err := svc.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	rev := revenue.New(st.Revenue(), svc.Now)
	var days []recordedDay
	err := db.Select(&days, `SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, model,
			sum((SELECT COALESCE(sum(floor(value::numeric)), 0) FROM json_each_text(quantities)))::bigint AS units,
			sum(vendor_cost_micro_usd)::bigint AS cost
		FROM usage_events WHERE model <> '' GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) < 3 {
		t.Fatalf("demo usage has %d model-days", len(days))
	}
	return db, reconcile.New(st.Reconcile(), rev, svc.Now), days
}

func csvOf(days []recordedDay, change func(i int, d *recordedDay)) []byte {
	var b strings.Builder
	b.WriteString("day,model,units,cost\n")
	for i, d := range days {
		if change != nil {
			change(i, &d)
		}
		fmt.Fprintf(&b, "%s,%s,%d,%d.%06d\n", d.Day.Format(time.DateOnly), d.Model, d.Units, d.Cost/1_000_000, d.Cost%1_000_000)
	}
	return []byte(b.String())
}

var admin = billing.Op{Actor: billing.Actor{Kind: "user", ID: "usr_test"}}

func TestReconcileMatchingFile(t *testing.T) {
	db, svc, days := seeded(t)
	im, err := svc.Import(context.Background(), reconcile.ImportInput{Filename: "vendor.csv", Data: csvOf(days, nil)}, admin)
	if err != nil {
		t.Fatal(err)
	}
	if im.Flagged != 0 || im.Rows != len(days) || len(im.Lines) != len(days) {
		t.Fatalf("matching file: %d rows, %d lines, %d flagged; want %d, %d, 0", im.Rows, len(im.Lines), im.Flagged, len(days), len(days))
	}
	kept, err := svc.ImportByID(context.Background(), im.ID)
	if err != nil || kept.Flagged != 0 || len(kept.Lines) != len(days) {
		t.Fatalf("kept import %+v, %v", kept, err)
	}
	var audits int
	if err := db.Get(&audits, `SELECT count(*) FROM audit_log WHERE action = $1`, reconcile.AuditImport); err != nil || audits != 1 {
		t.Fatalf("audit entries %d, %v", audits, err)
	}
}

func TestReconcileFivePercentOnOneModelDay(t *testing.T) {
	_, svc, days := seeded(t)
	target := len(days) / 2
	data := csvOf(days, func(i int, d *recordedDay) {
		if i == target {
			d.Cost += d.Cost / 20 // +5%
		}
	})
	im, err := svc.Import(context.Background(), reconcile.ImportInput{Filename: "vendor.csv", Data: data}, admin)
	if err != nil {
		t.Fatal(err)
	}
	if im.Flagged != 1 {
		t.Fatalf("flagged %d, want 1", im.Flagged)
	}
	for _, l := range im.Lines {
		if l.Flagged != (l.Day.Equal(days[target].Day) && l.Model == days[target].Model) {
			t.Errorf("line %s %s flagged=%v", l.Day.Format(time.DateOnly), l.Model, l.Flagged)
		}
	}
	// 2% is within tolerance.
	data = csvOf(days, func(i int, d *recordedDay) {
		if i == target {
			d.Units += d.Units / 50
		}
	})
	if im, err = svc.Import(context.Background(), reconcile.ImportInput{Filename: "vendor.csv", Data: data}, admin); err != nil || im.Flagged != 0 {
		t.Fatalf("2%% variance: flagged %d, %v", im.Flagged, err)
	}
}

func TestReconcileMalformedFileRefusedNothingStored(t *testing.T) {
	db, svc, days := seeded(t)
	good := string(csvOf(days[:2], nil))
	bad := good + "2026-13-01,gpt-4o,5,1.00\n"
	_, err := svc.Import(context.Background(), reconcile.ImportInput{Filename: "vendor.csv", Data: []byte(bad)}, admin)
	if billing.ErrorCode(err) != billing.EInvalid {
		t.Fatalf("err %v, want invalid_request", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "Line 4") || !strings.Contains(msg, "day") {
		t.Fatalf("message %q names no line and reason", msg)
	}
	var n int
	if err := db.Get(&n, `SELECT (SELECT count(*) FROM vendor_imports) + (SELECT count(*) FROM vendor_import_rows)`); err != nil || n != 0 {
		t.Fatalf("stored %d rows for a refused file (%v)", n, err)
	}
}
