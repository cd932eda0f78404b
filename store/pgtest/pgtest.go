// Package pgtest gives each test package its own fresh PostgreSQL database, cloned from a
// migrated template. The server is TEST_DATABASE_URL if set, else one answering on
// 127.0.0.1:5432, else a throwaway cluster started under the temp folder. Never a mock.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"creditline/store"
	"creditline/store/pgcluster"
	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
)

var (
	once   sync.Once
	dbURL  string
	dbName string
	setErr error
)

// Main wraps TestMain: it runs the package's tests and then drops the package's database.
func Main(m *testing.M) {
	code := m.Run()
	if dbName != "" {
		drop(dbName)
	}
	os.Exit(code)
}

// URL returns the connection string of this test package's database, creating it once.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(func() { dbURL, dbName, setErr = setup() })
	if setErr != nil {
		t.Fatalf("pgtest: %v", setErr)
	}
	return dbURL
}

// DB opens a connection pool to this test package's database; closed when t ends.
func DB(t testing.TB) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("postgres", URL(t))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	db.SetMaxOpenConns(40)
	t.Cleanup(func() { db.Close() })
	return db
}

var serverURL string

func server() (string, error) {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u, nil
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second); err == nil {
		c.Close()
		return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", nil
	}
	cl, err := pgcluster.Ensure(filepath.Join(os.TempDir(), "creditline-pgtest"), 55432)
	if err != nil {
		return "", err
	}
	return cl.URL("postgres"), nil
}

func withDB(u, name string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	p.Path = "/" + name
	return p.String()
}

// templateName changes whenever a migration changes, so a stale template is never used.
func templateName() (string, error) {
	ms, err := store.Migrations()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range ms {
		fmt.Fprintf(h, "%s\n%s\n", m.Name, m.SQL)
	}
	return "creditline_tmpl_" + hex.EncodeToString(h.Sum(nil))[:12], nil
}

func setup() (string, string, error) {
	base, err := server()
	if err != nil {
		return "", "", err
	}
	serverURL = base
	admin, err := sqlx.Open("postgres", base)
	if err != nil {
		return "", "", err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tmpl, err := templateName()
	if err != nil {
		return "", "", err
	}
	if err := ensureTemplate(ctx, admin, base, tmpl); err != nil {
		return "", "", err
	}
	var rnd [5]byte
	_, _ = rand.Read(rnd[:])
	name := "creditline_test_" + hex.EncodeToString(rnd[:])
	// CREATE DATABASE ... TEMPLATE fails while another session copies the same template.
	for i := 0; ; i++ {
		_, err = admin.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, tmpl))
		if err == nil || i > 50 || !strings.Contains(err.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return "", "", fmt.Errorf("create test database: %w", err)
	}
	return withDB(base, name), name, nil
}

func ensureTemplate(ctx context.Context, admin *sqlx.DB, base, tmpl string) error {
	conn, err := admin.Connx(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(727002)`); err != nil {
		return err
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(727002)`) //nolint:errcheck
	var exists bool
	if err := conn.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, tmpl); err != nil {
		return err
	}
	if exists {
		return nil
	}
	building := tmpl + "_building"
	conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+building) //nolint:errcheck
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+building); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	db, err := sqlx.Open("postgres", withDB(base, building))
	if err != nil {
		return err
	}
	_, err = store.Migrate(ctx, db)
	db.Close()
	if err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, tmpl)); err != nil {
		return fmt.Errorf("rename template: %w", err)
	}
	return nil
}

func drop(name string) {
	admin, err := sqlx.Open("postgres", serverURL)
	if err != nil {
		return
	}
	defer admin.Close()
	admin.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)) //nolint:errcheck
}
