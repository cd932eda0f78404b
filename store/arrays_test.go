package store_test

import (
	"context"
	"testing"

	"creditline/store"
	"creditline/store/pgtest"
	"github.com/lib/pq"
)

// The literals must read back as the same arrays in PostgreSQL, whatever the strings hold.
func TestArrayLiteralsRoundTrip(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	texts := []string{"", "plain", `quote " inside`, `back\slash`, `{braces,commas}`, "NULL", " spaces ", "ünïcødé ✓", `\"`, "new\nline"}
	var gotText pq.StringArray
	if err := db.QueryRowContext(ctx, `SELECT $1::text[]`, store.TextArray(texts)).Scan(&gotText); err != nil {
		t.Fatal(err)
	}
	if len(gotText) != len(texts) {
		t.Fatalf("got %d strings, want %d", len(gotText), len(texts))
	}
	for i := range texts {
		if gotText[i] != texts[i] {
			t.Errorf("element %d: got %q, want %q", i, gotText[i], texts[i])
		}
	}
	ints := []int64{0, -1, 9223372036854775807, -9223372036854775808, 42}
	var gotInts pq.Int64Array
	if err := db.QueryRowContext(ctx, `SELECT $1::bigint[]`, store.Int64Array(ints)).Scan(&gotInts); err != nil {
		t.Fatal(err)
	}
	for i := range ints {
		if gotInts[i] != ints[i] {
			t.Errorf("int %d: got %d, want %d", i, gotInts[i], ints[i])
		}
	}
	bools := []bool{true, false, true}
	var gotBools pq.BoolArray
	if err := db.QueryRowContext(ctx, `SELECT $1::boolean[]`, store.BoolArray(bools)).Scan(&gotBools); err != nil {
		t.Fatal(err)
	}
	for i := range bools {
		if gotBools[i] != bools[i] {
			t.Errorf("bool %d: got %v, want %v", i, gotBools[i], bools[i])
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT cardinality($1::text[]) + cardinality($2::bigint[])`, store.TextArray(nil), store.Int64Array(nil)).Scan(&n); err != nil || n != 0 {
		t.Fatalf("empty arrays: %d %v", n, err)
	}
}
