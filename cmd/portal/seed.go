package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"creditline/billing"
	"creditline/store"
)

func cmdSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("seed", "load data into the database named by DATABASE_URL", stderr)
	demo := fs.Bool("demo", false, "the demo: users, price book, plans, packs, 30 days of usage (safe to run twice)")
	bulk := fs.Int("bulk", 0, "write N usage events over the last 30 days for one account (load testing; set-based SQL)")
	account := fs.String("account", "", "with --bulk: the account id (acc_...)")
	email := fs.String("email", "demo@creditline.test", "with --bulk and no --account: the account of this user")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*demo && *bulk <= 0 {
		fs.Usage()
		return fmt.Errorf("nothing to seed: pass --demo and/or --bulk N")
	}
	a, err := openTool(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	if *demo {
		logins, err := a.svc.SeedDemo(ctx)
		if err != nil {
			return err
		}
		for _, l := range logins {
			fmt.Fprintf(stdout, "%s %s / %s\n", l.Role, l.Email, l.Password)
		}
	}
	if *bulk > 0 {
		return seedBulk(ctx, a, *bulk, *account, *email, stdout)
	}
	return nil
}

// seedBulk resolves the account and writes the events, printing progress and the rate.
func seedBulk(ctx context.Context, a *app, n int, accountID, email string, stdout io.Writer) error {
	if accountID == "" {
		u, err := a.store.UserByEmail(ctx, billing.NormalizeEmail(email))
		if err != nil {
			return fmt.Errorf("no user %s: pass --account or run seed --demo first", email)
		}
		acc, _, err := a.svc.AccountForUser(ctx, u.ID, "")
		if err != nil {
			return err
		}
		accountID = acc.ID
	}
	if err := a.svc.LoadLiveBook(ctx); err != nil {
		return err
	}
	start := time.Now()
	res, err := a.store.SeedBulkUsage(ctx, a.svc, accountID, n, 0, func(done int) {
		fmt.Fprintf(stdout, "  %d events (%s)\n", done, time.Since(start).Round(time.Millisecond))
	})
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "bulk: %d usage events, %s credits, for %s in %s (%.0f events/s)\n",
		res.Events, res.Credits.Display(), accountID, took.Round(time.Millisecond), float64(res.Events)/took.Seconds())
	return nil
}

// openTool opens the app for a CLI command: DATABASE_URL required, schema current.
func openTool(ctx context.Context, getenv func(string) string, stderr io.Writer) (*app, error) {
	url := getenv("DATABASE_URL")
	if url == "" {
		return nil, fmt.Errorf("DATABASE_URL is required")
	}
	a, err := openApp(ctx, Config{DatabaseURL: url, Dev: true}, stderr)
	if err != nil {
		return nil, err
	}
	if n, err := store.PendingMigrations(ctx, a.db); err != nil || n > 0 {
		a.close()
		if err != nil {
			return nil, fmt.Errorf("schema missing: run 'portal migrate' first (%v)", err)
		}
		return nil, fmt.Errorf("%d migrations pending: run 'portal migrate' first", n)
	}
	return a, nil
}

func cmdAdmin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "usage: portal admin create --email E --password P")
		return fmt.Errorf("unknown admin command")
	}
	fs := newFlags("admin create", "create a platform admin, or promote an existing user (and reset their password)", stderr)
	email := fs.String("email", "", "the admin's email")
	password := fs.String("password", "", "the admin's password (at least 8 characters)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	a, err := openTool(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	u, err := a.svc.EnsureAdmin(ctx, *email, *password)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "platform admin: %s (%s)\n", u.Email, u.ID)
	return nil
}
