package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"creditline/store"
	"creditline/store/pgcluster"
)

const devDataDir = ".data"

func cmdDev(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("dev", "local development: starts PostgreSQL under .data/ when DATABASE_URL is unset, migrates, seeds the demo and serves with test-mode payments", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	env := map[string]string{}
	get := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return getenv(k)
	}
	if getenv("DATABASE_URL") == "" {
		url, err := devDatabase(ctx, stdout)
		if err != nil {
			return err
		}
		env["DATABASE_URL"] = url
	}
	// dev is the one command that asks for test-mode payments itself, unless Stripe keys are given.
	if getenv("PAYMENTS") == "" && getenv("STRIPE_SECRET_KEY") == "" {
		env["PAYMENTS"] = "test"
	}
	// Local webhook receivers (localhost, http) are what development points endpoints at.
	if getenv("WEBHOOK_ALLOW_PRIVATE") == "" {
		env["WEBHOOK_ALLOW_PRIVATE"] = "true"
	}
	if getenv("SESSION_SECRET") == "" {
		s, err := devSecret()
		if err != nil {
			return err
		}
		env["SESSION_SECRET"] = s
	}
	cfg, err := loadConfig(get, true)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	if _, err := store.Migrate(ctx, a.db); err != nil {
		return err
	}
	if err := validateConstraints(ctx, a.db, stdout); err != nil {
		return err
	}
	logins, err := a.svc.SeedDemo(ctx)
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	if err := a.svc.LoadLiveBook(ctx); err != nil {
		return err
	}
	return a.serve(ctx, stdout, func(url string) {
		fmt.Fprintf(stdout, "\nCreditline is running at %s\n", url)
		if cfg.TestMode() {
			fmt.Fprintln(stdout, "Payments: test mode (PAYMENTS=test; no money moves)")
		}
		fmt.Fprintln(stdout, "Demo logins:")
		for _, l := range logins {
			fmt.Fprintf(stdout, "  %-9s %s / %s\n", l.Role, l.Email, l.Password)
		}
		fmt.Fprintln(stdout)
	})
}

// devDatabase starts (or reuses) the cluster under .data/ and makes sure database creditline exists.
func devDatabase(ctx context.Context, stdout io.Writer) (string, error) {
	cl, err := pgcluster.Ensure(filepath.Join(devDataDir, "pg"), 54329)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(stdout, "PostgreSQL (local, %s) on 127.0.0.1:%d\n", filepath.Join(devDataDir, "pg"), cl.Port)
	return cl.EnsureDatabase(ctx, "creditline")
}

// devSecret keeps one generated session secret under .data/ so sessions survive restarts.
func devSecret() (string, error) {
	p := filepath.Join(devDataDir, "session_secret")
	if b, err := os.ReadFile(p); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	s := hex.EncodeToString(b[:])
	if err := os.MkdirAll(devDataDir, 0o755); err != nil {
		return "", err
	}
	return s, os.WriteFile(p, []byte(s), 0o600)
}
