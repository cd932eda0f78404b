package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// Fresh gives one test a migrated database of its own, dropped when the test ends: for
// tests that assert on whole tables (e.g. "exactly one price book version").
func Fresh(t testing.TB) *sqlx.DB {
	t.Helper()
	URL(t) // the server and the template exist from here on
	tmpl, err := templateName()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return newDatabase(t, "TEMPLATE "+tmpl)
}

// Empty gives one test an empty database (no migrations applied), dropped when the test ends.
func Empty(t testing.TB) *sqlx.DB {
	t.Helper()
	URL(t)
	return newDatabase(t, "")
}

func newDatabase(t testing.TB, template string) *sqlx.DB {
	t.Helper()
	admin, err := sqlx.Open("postgres", serverURL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer admin.Close()
	var rnd [5]byte
	_, _ = rand.Read(rnd[:])
	name := "creditline_test_" + hex.EncodeToString(rnd[:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// CREATE DATABASE ... TEMPLATE fails while another session copies the same template.
	for i := 0; ; i++ {
		_, err = admin.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s %s`, name, template))
		if err == nil || i > 50 || !strings.Contains(err.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() { drop(name) })
	db, err := sqlx.Open("postgres", withDB(serverURL, name))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { db.Close() }) // runs before the drop
	return db
}
