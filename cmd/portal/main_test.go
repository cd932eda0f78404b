package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"creditline/store"
	"creditline/store/pgtest"
)

func TestMain(m *testing.M) {
	// The crash test re-runs this binary as the real server, so it can kill it with SIGKILL.
	if os.Getenv("CREDITLINE_TEST_SERVE") == "1" {
		if err := run(context.Background(), []string{"serve"}, os.Getenv, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	pgtest.Main(m)
}

// syncBuffer lets the test read what the server prints while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigErrorsNameTheSetting(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "DATABASE_URL is required"},
		{map[string]string{"DATABASE_URL": "mysql://x/y", "SESSION_SECRET": strings.Repeat("s", 32)}, "DATABASE_URL must use postgres://"},
		{map[string]string{"DATABASE_URL": "postgres://h/db"}, "SESSION_SECRET is required"},
		{map[string]string{"DATABASE_URL": "postgres:///db"}, "DATABASE_URL is not a valid URL"},
		{map[string]string{"DATABASE_URL": "postgres://u@/db?host=/var/run/postgresql"}, "SESSION_SECRET is required"}, // a socket directory is a host
		{map[string]string{"DATABASE_URL": "postgres://h/db", "SESSION_SECRET": "short"}, "SESSION_SECRET is too short"},
		{map[string]string{"DATABASE_URL": "postgres://h/db", "SESSION_SECRET": strings.Repeat("s", 32), "ADDR": "8080"}, "ADDR"},
		{map[string]string{"DATABASE_URL": "postgres://h/db", "SESSION_SECRET": strings.Repeat("s", 32), "STRIPE_SECRET_KEY": "pk_live_x"}, "STRIPE_SECRET_KEY"},
		{map[string]string{"DATABASE_URL": "postgres://h/db", "SESSION_SECRET": strings.Repeat("s", 32), "STRIPE_SECRET_KEY": "sk_test_x"}, "STRIPE_WEBHOOK_SECRET is required"},
		{map[string]string{"DATABASE_URL": "postgres://h/db", "SESSION_SECRET": strings.Repeat("s", 32), "BASE_URL": "ftp://x"}, "BASE_URL"},
		{map[string]string{"DATABASE_URL": "postgres://h/db", "SESSION_SECRET": strings.Repeat("s", 32), "DEBIT_SHARDS": "0"}, "DEBIT_SHARDS"},
		{map[string]string{"DATABASE_URL": "postgres://h/db", "SESSION_SECRET": strings.Repeat("s", 32), "DEBIT_BULK_SHARDS": "two"}, "DEBIT_BULK_SHARDS"},
	}
	for _, c := range cases {
		err := run(context.Background(), []string{"serve"}, env(c.env), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("env %v: err %v, want one line containing %q", c.env, err, c.want)
		}
	}
}

// TestServeEndToEnd runs the real program: migrate, seed, admin create, serve; then
// checks health and pages over real HTTP, and a graceful shutdown.
func TestServeEndToEnd(t *testing.T) {
	url := pgtest.URL(t)
	e := env(map[string]string{"DATABASE_URL": url, "SESSION_SECRET": strings.Repeat("x", 40), "ADDR": "127.0.0.1:0", "PAYMENTS": "test"})
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"migrate"}, e, &out, io.Discard); err != nil || !strings.Contains(out.String(), "up to date") {
		t.Fatalf("migrate: %v %s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"seed", "--demo"}, e, &out, io.Discard); err != nil || !strings.Contains(out.String(), "demo@creditline.test") {
		t.Fatalf("seed: %v %s", err, out.String())
	}
	if err := run(ctx, []string{"seed", "--demo"}, e, io.Discard, io.Discard); err != nil {
		t.Fatalf("second seed: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"admin", "create", "--email", "ops@example.com", "--password", "ops-password"}, e, &out, io.Discard); err != nil {
		t.Fatalf("admin create: %v", err)
	}
	if err := run(ctx, []string{"admin", "create", "--email", "bad", "--password", "x"}, e, io.Discard, io.Discard); err == nil {
		t.Fatal("admin create accepted a bad email")
	}
	db, _ := store.Open(ctx, url)
	defer db.Close()
	var admins int
	db.Get(&admins, `SELECT count(*) FROM users WHERE is_admin`)
	if admins != 2 {
		t.Fatalf("admins = %d, want 2 (demo admin and ops)", admins)
	}

	sctx, stop := context.WithCancel(ctx)
	stdout := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(sctx, []string{"serve"}, e, stdout, io.Discard) }()
	base := waitListening(t, stdout, done)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/login": 200, "/signup": 200, "/admin": 303} {
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not shut down")
	}
}

func waitListening(t *testing.T, stdout *syncBuffer, done chan error) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v", err)
		default:
		}
		if i := strings.Index(stdout.String(), "listening on "); i >= 0 {
			line := stdout.String()[i+len("listening on "):]
			base := strings.TrimSpace(strings.SplitN(line, "\n", 2)[0])
			if resp, err := http.Get(base + "/healthz"); err == nil {
				resp.Body.Close()
				return base
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("server did not start")
	return ""
}

func TestVerifyCommand(t *testing.T) {
	url := pgtest.URL(t)
	e := env(map[string]string{"DATABASE_URL": url})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"verify"}, e, &out, io.Discard); err != nil || !strings.Contains(out.String(), "ledger ok") {
		t.Fatalf("verify on a clean ledger: %v %s", err, out.String())
	}
	db, _ := store.Open(context.Background(), url)
	defer db.Close()
	acc := "acc_verifycommandtest"
	if _, err := db.Exec(`INSERT INTO accounts (id, name, balance) VALUES ($1, 'broken', 1000)`, acc); err != nil {
		t.Fatal(err)
	}
	defer db.Exec(`UPDATE accounts SET balance = 0 WHERE id = $1`, acc)
	out.Reset()
	err := run(context.Background(), []string{"verify"}, e, &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), "account "+acc+": invariant 2") {
		t.Fatalf("verify on a broken ledger: %v %s", err, out.String())
	}
}
