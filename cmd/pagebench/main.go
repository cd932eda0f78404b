// Command pagebench measures the customer dashboard on a big account: it creates a database
// of its own, seeds the demo and N bulk usage events for the demo customer (timing the seed
// and verify), serves the real handlers in-process, signs in, and requests each page many
// times, printing p50/p95/max server time. The database is dropped at the end (-keep keeps it).
//
//	go run ./cmd/pagebench -n 1000000 -requests 50     (make bench-pages)
//	go run ./cmd/pagebench -n 1000000 -simulate        (make bench-simulate: the price book impact simulation)
//
// The PostgreSQL server is -server, else $BENCH_DATABASE_URL or $TEST_DATABASE_URL, else one
// answering on 127.0.0.1:5432 (user postgres), else a throwaway cluster under the temp folder.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"creditline/billing"
	"creditline/billing/reconcile"
	"creditline/billing/revenue"
	"creditline/handlers"
	"creditline/store"
	"creditline/store/pgcluster"
	"creditline/web"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pagebench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("pagebench", flag.ContinueOnError)
	n := fs.Int("n", 1_000_000, "bulk usage events for the demo customer")
	reqs := fs.Int("requests", 50, "timed requests per page (after 3 untimed)")
	server := fs.String("server", "", "PostgreSQL server URL (any database; a new one is created beside it)")
	keep := fs.Bool("keep", false, "keep the benchmark database (its URL is printed)")
	verify := fs.Bool("verify", true, "run verify after seeding and time it")
	existing := fs.String("database", "", "use this already seeded database (kept): no create, no seed")
	simOnly := fs.Bool("simulate", false, "time the price book impact simulation over the events instead of the pages")
	if err := fs.Parse(args); err != nil {
		return err
	}
	base, err := serverURL(*server)
	if err != nil {
		return err
	}
	dbURL, drop, err := *existing, func() {}, error(nil)
	if dbURL == "" {
		dbURL, drop, err = createDatabase(ctx, base)
	}
	if err != nil {
		return err
	}
	if *keep || *existing != "" {
		fmt.Fprintf(out, "database: %s (kept)\n", dbURL)
	} else {
		defer drop()
	}
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := store.Migrate(ctx, db); err != nil {
		return err
	}
	st := store.New(db)
	svc := billing.NewService(st, billing.Options{})
	if _, err := svc.SeedDemo(ctx); err != nil {
		return err
	}
	if err := svc.LoadLiveBook(ctx); err != nil {
		return err
	}
	u, err := st.UserByEmail(ctx, "demo@creditline.test")
	if err != nil {
		return err
	}
	acc, _, err := svc.AccountForUser(ctx, u.ID, "")
	if err != nil {
		return err
	}

	start := time.Now()
	if *existing == "" {
		res, err := st.SeedBulkUsage(ctx, svc, acc.ID, *n, 0, nil)
		if err != nil {
			return err
		}
		seedTook := time.Since(start)
		fmt.Fprintf(out, "seed --bulk %d: %s (%.0f events/s, %s credits)\n", res.Events, seedTook.Round(time.Millisecond),
			float64(res.Events)/seedTook.Seconds(), res.Credits.Display())
	}
	if *verify {
		start = time.Now()
		vs, err := svc.Verify(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "verify: %d violations in %s\n", len(vs), time.Since(start).Round(time.Millisecond))
		if len(vs) > 0 {
			return fmt.Errorf("verify: %v", vs[0])
		}
	}

	if *simOnly {
		return benchSimulation(ctx, out, svc, st)
	}
	rev := revenue.New(st.Revenue(), svc.Now)
	if err := measureRevenue(ctx, out, rev, *reqs); err != nil {
		return err
	}
	h := handlers.New(handlers.Config{Service: svc, Sessions: handlers.NewSessions([]byte(randomHex(32)), false),
		Ready: func(ctx context.Context) error { return db.PingContext(ctx) }, TestMode: true,
		Revenue: rev, Reconcile: reconcile.New(st.Reconcile(), rev, svc.Now)})
	srv := httptest.NewServer(web.New(web.Deps{Handlers: h, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: web.NewMetrics()}))
	defer srv.Close()
	c, err := signIn(srv.URL, "demo@creditline.test", "demo-password")
	if err != nil {
		return err
	}
	if _, err := svc.EnsureAdmin(ctx, "bench-admin@creditline.test", "bench-admin-password"); err != nil {
		return err
	}
	adm, err := signIn(srv.URL, "bench-admin@creditline.test", "bench-admin-password")
	if err != nil {
		return err
	}

	deep, err := cursor(ctx, st, acc.ID, *n*9/10)
	if err != nil {
		return err
	}
	page2, err := cursor(ctx, st, acc.ID, 50)
	if err != nil {
		return err
	}
	_, oldestEvent, err := st.UsageEventAt(ctx, acc.ID, 0, true)
	if err != nil {
		return err
	}
	today := time.Now().UTC()
	from, to := today.AddDate(0, 0, -10).Format(time.DateOnly), today.AddDate(0, 0, -3).Format(time.DateOnly)
	oldest := today.AddDate(0, 0, -29).Format(time.DateOnly)
	pages := []struct {
		name, path string
		admin      bool
	}{
		{"overview", "/", false},
		{"usage, first page", "/usage", false},
		{"usage, action filter", "/usage?action=image.generate", false},
		{"usage, model + dates", "/usage?model=gpt-4o&from=" + from + "&to=" + to, false},
		{"usage, load more (page 2)", "/usage/more?cursor=" + url.QueryEscape(page2), false},
		{"usage, deep cursor (90%)", "/usage/more?cursor=" + url.QueryEscape(deep), false},
		{"usage, deep cursor + filter", "/usage/more?action=chat.completion&cursor=" + url.QueryEscape(deep), false},
		{"usage, deep + action + model", "/usage/more?action=chat.completion&model=small-open&cursor=" + url.QueryEscape(deep), false},
		{"usage, no match (action+model)", "/usage?action=video.generate&model=gpt-4o", false},
		{"usage, oldest day only", "/usage?from=" + oldest + "&to=" + oldest, false},
		{"usage event page", "/usage/" + oldestEvent, false},
		{"prices", "/prices", false},
		{"estimate fragment", "/prices/estimate?action=chat.completion&model=gpt-4o&input_tokens=2000&output_tokens=500", false},
		{"admin overview", "/admin", true},
		{"admin account page", "/admin/customers/" + acc.ID, true},
		{"admin customer search", "/admin/customers?q=demo", true},
		{"admin jobs", "/admin/jobs", true},
		{"admin revenue (12 months)", "/admin/revenue", true},
		{"admin revenue CSV", "/admin/revenue.csv", true},
		{"admin reconciliation", "/admin/reconciliation", true},
	}
	fmt.Fprintf(out, "\n%-30s %9s %9s %9s   (%d requests each, ms)\n", "page", "p50", "p95", "max", *reqs)
	for _, p := range pages {
		client := c
		if p.admin {
			client = adm
		}
		ds, err := measure(client, srv.URL+p.path, *reqs)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		fmt.Fprintf(out, "%-30s %9.1f %9.1f %9.1f\n", p.name, ms(pct(ds, 50)), ms(pct(ds, 95)), ms(ds[len(ds)-1]))
	}
	return nil
}

// measure requests url 3 times untimed, then n times timed (the whole body read), sorted.
func measure(c *http.Client, u string, n int) ([]time.Duration, error) {
	var ds []time.Duration
	for i := -3; i < n; i++ {
		start := time.Now()
		resp, err := c.Get(u)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("status %d", resp.StatusCode)
		}
		if i >= 0 {
			ds = append(ds, d)
		}
	}
	slices.Sort(ds)
	return ds, nil
}

func pct(ds []time.Duration, p int) time.Duration {
	i := (len(ds)*p + 99) / 100
	return ds[max(min(i, len(ds))-1, 0)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func signIn(base, email, password string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/login")
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("no CSRF token on /login")
	}
	resp, err = c.PostForm(base+"/login", url.Values{"_csrf": {string(m[1])}, "email": {email}, "password": {password}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("sign-in: status %d", resp.StatusCode)
	}
	return c, nil
}

// cursor is the "load more" cursor after the account's event at offset (newest first).
func cursor(ctx context.Context, st *store.Store, accountID string, offset int) (string, error) {
	at, id, err := st.UsageEventAt(ctx, accountID, offset, false)
	if err != nil {
		return "", fmt.Errorf("cursor at %d: %w", offset, err)
	}
	return handlers.UsageCursor(at, id), nil
}

func serverURL(flagURL string) (string, error) {
	for _, u := range []string{flagURL, os.Getenv("BENCH_DATABASE_URL"), os.Getenv("TEST_DATABASE_URL")} {
		if u != "" {
			return u, nil
		}
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

// createDatabase makes creditline_bench_<random> on the server and returns its URL and a drop.
func createDatabase(ctx context.Context, base string) (string, func(), error) {
	u, drop, err := store.CreateDatabase(ctx, base, "creditline_bench_"+randomHex(5))
	if err != nil {
		return "", nil, err
	}
	return u, func() {
		if err := drop(); err != nil {
			fmt.Fprintln(os.Stderr, "pagebench: drop:", err)
		}
	}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
