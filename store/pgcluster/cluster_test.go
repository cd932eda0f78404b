package pgcluster

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/lib/pq"
)

// TestEnsureStartsAndReusesACluster runs the real binaries: initdb, start, reuse, stop, restart.
func TestEnsureStartsAndReusesACluster(t *testing.T) {
	if _, err := FindBinaries(); err != nil {
		t.Fatalf("the test machine must have PostgreSQL binaries: %v", err)
	}
	dir, err := os.MkdirTemp("", "pgcluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	c, err := Ensure(filepath.Join(dir, "data"), 56432)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	ping := func() {
		t.Helper()
		db, err := sql.Open("postgres", c.URL("postgres"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS kept (x int); INSERT INTO kept VALUES (1)`); err != nil {
			t.Fatal(err)
		}
	}
	ping()
	again, err := Ensure(filepath.Join(dir, "data"), 56432)
	if err != nil || again.Port != c.Port {
		t.Fatalf("reuse: port %d vs %d, %v", again.Port, c.Port, err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(filepath.Join(dir, "data"), 56432); err != nil {
		t.Fatalf("restart: %v", err)
	}
	ping()
	db, _ := sql.Open("postgres", c.URL("postgres"))
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM kept`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("data not kept across restart: %d, %v", n, err)
	}
	// EnsureDatabase creates once and then finds it.
	for i := 0; i < 2; i++ {
		url, err := c.EnsureDatabase(context.Background(), "made_here")
		if err != nil || url != c.URL("made_here") {
			t.Fatalf("ensure database, time %d: %s %v", i+1, url, err)
		}
	}
	if err := db.QueryRow(`SELECT count(*) FROM pg_database WHERE datname = 'made_here'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("databases named 'made_here': %d, %v", n, err)
	}
}
