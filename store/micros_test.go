package store_test

import (
	"context"
	"database/sql"
	"math"
	"strings"
	"testing"
	"time"

	"creditline/store/pgtest"
)

// micros() (migrations 0028 and 0032) gives the microseconds since the epoch the cold read
// decodes: NULL for NULL, the clamps for the infinities, exact before and after 1970; and the
// planner inlines it (a call through the SQL function executor cost ~1.2 us each).
func TestMicrosIsExactAndInlined(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 30, 10, 11, 12, 123456000, time.UTC)
	before := time.Date(1969, 7, 20, 20, 17, 40, 654321000, time.UTC)
	for _, c := range []struct {
		in   any
		want sql.NullInt64
	}{
		{nil, sql.NullInt64{}},
		{"infinity", sql.NullInt64{Int64: math.MaxInt64, Valid: true}},
		{"-infinity", sql.NullInt64{Int64: -math.MaxInt64, Valid: true}},
		{at, sql.NullInt64{Int64: at.UnixMicro(), Valid: true}},
		{before, sql.NullInt64{Int64: before.UnixMicro(), Valid: true}},
	} {
		var got sql.NullInt64
		if err := db.QueryRowContext(ctx, `SELECT micros($1::timestamptz)`, c.in).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("micros(%v) = %+v, want %+v", c.in, got, c.want)
		}
	}
	rows, err := db.QueryContext(ctx, `EXPLAIN (VERBOSE, COSTS OFF) SELECT micros(created_at) FROM grants`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if p := strings.Join(lines, "\n"); strings.Contains(p, "micros(") || !strings.Contains(p, "EXTRACT(epoch") {
		t.Fatalf("micros is not inlined:\n%s", p)
	}
}
