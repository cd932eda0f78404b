package main

import (
	"context"
	"creditline/billing/simulate"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"time"

	"creditline/billing"
	"creditline/billing/abuse"
	"creditline/billing/mail"
	"creditline/billing/reconcile"
	"creditline/billing/revenue"
	custhooks "creditline/billing/webhooks"
	"creditline/handlers"
	"creditline/payments"
	"creditline/store"
	"creditline/web"
	"github.com/jmoiron/sqlx"
)

// app is the wired program: database, store, domain service.
type app struct {
	cfg   Config
	db    *sqlx.DB
	store *store.Store
	svc   *billing.Service
	hooks *custhooks.Service
	rev   *revenue.Service
	log   *slog.Logger
	logs  *logBuffer
}

func openApp(ctx context.Context, cfg Config, stderr io.Writer) (*app, error) {
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	st := store.New(db)
	logs := newLogBuffer(stderr, 100*time.Millisecond)
	var h slog.Handler = slog.NewJSONHandler(logs, nil)
	if cfg.Dev {
		h = slog.NewTextHandler(logs, nil)
	}
	var mailer billing.Mailer // nil: mail stays in the outbox, shown at /admin/outbox
	if cfg.SMTPURL != "" {
		m, err := mail.New(cfg.SMTPURL, cfg.BaseURL)
		if err != nil {
			logs.Close()
			db.Close()
			return nil, err
		}
		mailer = m
	}
	svc := billing.NewService(st, billing.Options{Payments: newPayments(cfg), Mailer: mailer,
		Dunning:    billing.DunningOptions{Grace: cfg.Grace, LinkBase: cfg.BaseURL},
		AlertLinks: billing.AlertLinks{BaseURL: cfg.BaseURL, Secret: []byte(cfg.SessionSecret)},
		Retention:  cfg.Retention, LedgerCacheAccounts: cfg.LedgerCacheAccounts})
	hooks := custhooks.New(svc, st.Webhooks(), custhooks.Options{AllowPrivate: cfg.WebhookAllowPrivate})
	rev := revenue.New(st.Revenue(), svc.Now)
	return &app{cfg: cfg, db: db, store: st, svc: svc, hooks: hooks, rev: rev, log: slog.New(h), logs: logs}, nil
}

// newPayments is the test-mode stand-in with PAYMENTS=test, Stripe with a key, else none (the
// maintenance commands, which take no payments).
func newPayments(cfg Config) billing.Payments {
	if cfg.TestMode() {
		return payments.NewTestMode()
	}
	if cfg.StripeSecretKey == "" {
		return nil
	}
	return payments.NewStripe(payments.Config{SecretKey: cfg.StripeSecretKey, APIBase: cfg.StripeAPIBase, BaseURL: cfg.BaseURL})
}

// webhooks verifies Stripe webhooks when a signing secret is configured.
func webhooks(cfg Config) handlers.WebhookParser {
	if cfg.StripeWebhookSecret == "" {
		return nil
	}
	return payments.Webhooks{Secret: cfg.StripeWebhookSecret}
}

func (a *app) close() { a.logs.Close(); a.db.Close() }

func (a *app) ready(ctx context.Context) error {
	if err := a.db.PingContext(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	n, err := store.PendingMigrations(ctx, a.db)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%d migrations pending: run 'portal migrate'", n)
	}
	return nil
}

// serve listens until ctx is cancelled, then lets in-flight requests finish.
func (a *app) serve(ctx context.Context, stdout io.Writer, onListen func(url string)) error {
	detector := abuse.New(a.svc, a.store.Abuse(), abuse.Options{Log: a.log})
	h := handlers.New(handlers.Config{
		Service:  a.svc,
		Sessions: handlers.NewSessions([]byte(a.cfg.SessionSecret), !a.cfg.Dev),
		Ready:    a.ready,
		TestMode: a.cfg.TestMode(),
		Webhooks: webhooks(a.cfg),
		BaseURL:  a.cfg.BaseURL, // links in mail never come from the request's Host header
		// Customers' own endpoints; WEBHOOK_ALLOW_PRIVATE decides which addresses they may reach.
		CustomerWebhooks: a.hooks,
		Abuse:            detector,
		Revenue:          a.rev,
		Reconcile:        reconcile.New(a.store.Reconcile(), a.rev, a.svc.Now),
		Simulations:      simulate.NewRunner(a.store, a.svc.Now),
	})
	metrics := web.NewMetrics()
	metrics.WatchGroupCommit(a.svc.GroupCommitStats)
	metrics.WatchLedger(a.svc.LedgerStats(), a.svc.LedgerCacheLen)
	e := web.New(web.Deps{Handlers: h, Logger: a.log, Metrics: metrics, MetricsToken: a.cfg.MetricsToken,
		TrustedProxies: a.cfg.TrustedProxies, HSTS: strings.HasPrefix(a.cfg.BaseURL, "https://")})
	lctx, stopListening := context.WithCancel(context.WithoutCancel(ctx))
	defer stopListening()
	a.listenForChanges(lctx)
	go a.rev.Run(lctx, 30*time.Second, a.log)       // revenue rollups follow the ledger
	go detector.FlushLoop(lctx, time.Minute, a.log) // this instance's rate-limit refusals
	// The impact simulation's price-input rollup (billing/simulate Fold), off the debit path.
	go simulate.FoldLoop(lctx, a.store, a.svc.Now, time.Minute, a.log)
	// Before listening: the first debits after a deploy find their accounts cached.
	wctx, cancelWarm := context.WithTimeout(ctx, 10*time.Second)
	start := time.Now()
	if n, err := a.svc.WarmLedgerCache(wctx, 20_000); err != nil {
		a.log.Warn("ledger cache not warmed: first debits take the locking path", "err", err)
	} else {
		a.log.Info("ledger cache warmed", "accounts", n, "ms", time.Since(start).Milliseconds())
	}
	cancelWarm()
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.Addr, err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String()
	if host, port, _ := net.SplitHostPort(ln.Addr().String()); host == "::" || host == "0.0.0.0" {
		url = "http://localhost:" + port
	}
	fmt.Fprintf(stdout, "listening on %s\n", url)
	if onListen != nil {
		onListen(url)
	}
	if a.cfg.MetricsAddr != "" { // metrics on their own listener, for a scraper inside the network
		mln, err := net.Listen("tcp", a.cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("METRICS_ADDR: listen on %s: %w", a.cfg.MetricsAddr, err)
		}
		msrv := &http.Server{Handler: metricsMux(metrics.HTTPHandler()), ReadHeaderTimeout: 10 * time.Second}
		go msrv.Serve(mln) //nolint:errcheck
		defer msrv.Close()
		fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", mln.Addr())
	}
	if addr := os.Getenv("PPROF_ADDR"); addr != "" { // debugging only: never expose publicly
		go http.ListenAndServe(addr, pprofMux()) //nolint:errcheck
	}
	gctx, stopGC := context.WithCancel(context.WithoutCancel(ctx))
	waitGC := a.svc.StartGroupCommit(gctx, billing.GroupCommitConfig{Shards: a.cfg.DebitShards, BulkShards: a.cfg.DebitBulkShards, MaxBatch: 512, Window: a.cfg.DebitWindow})
	defer func() { stopGC(); waitGC() }() // after Shutdown: in-flight debits are answered first
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if a.cfg.LedgerCacheFill {
		go func() { // the rest of the customer base, up to LEDGER_CACHE_ACCOUNTS, while serving
			start := time.Now()
			n, err := a.svc.WarmLedgerCacheAll(lctx)
			a.log.Info("ledger cache filled", "accounts", n, "ms", time.Since(start).Milliseconds(), "err", err)
		}()
	}
	wctx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	workerDone := make(chan struct{})
	worker := a.svc.NewWorker(a.log)
	a.hooks.Register(worker)
	detector.Register(worker)
	if err := detector.Start(ctx); err != nil {
		a.log.Warn("abuse detectors not scheduled: the next start schedules them", "err", err)
	}
	go func() { defer close(workerDone); worker.Run(wctx) }()
	defer func() { stopWorker(); <-workerDone }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down: waiting for in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), web.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// listenForChanges keeps this instance's caches current with every change committed by any
// instance sharing the database, until ctx ends. It waits a few seconds for the subscription;
// a database not reachable yet is subscribed to in the background (until then, and while the
// connection is lost, snapshots live at most their TTL).
func (a *app) listenForChanges(ctx context.Context) {
	subscribed := false // apply runs on one goroutine at a time (store.Listen)
	apply := func(ev billing.CacheEvent) {
		if err := a.svc.ApplyCacheEvent(ctx, ev); err != nil {
			a.log.Warn("cache event not applied", "kind", ev.Kind, "err", err)
		}
		switch {
		case ev.Kind == billing.EventsLive:
			subscribed = true
		case ev.Kind == billing.EventsLost && subscribed: // the first one comes with subscribing
			a.log.Warn("change notifications were interrupted: caches dropped")
		}
	}
	done := make(chan error, 1)
	go func() { done <- store.Listen(ctx, a.cfg.DatabaseURL, apply) }()
	select {
	case err := <-done:
		if err != nil {
			a.log.Warn("not listening for changes made by other instances", "err", err)
			break
		}
		// Listen applied EventsLost then EventsLive on subscribing: anything committed between
		// the first loads and the subscription went unannounced, so caches start over.
	case <-time.After(10 * time.Second):
		a.log.Warn("still subscribing to change notifications")
	}
}

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "run the web server and the background workers (config from the environment)", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv, false)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.ready(ctx); err != nil {
		a.log.Warn("not ready; price book not loaded", "reason", err)
	} else if err := a.svc.LoadLiveBook(ctx); err != nil {
		return err
	}
	return a.serve(ctx, stdout, nil)
}

func cmdMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", "apply pending database migrations (safe to run twice)", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	url := getenv("DATABASE_URL")
	if url == "" {
		return fmt.Errorf("DATABASE_URL is required")
	}
	db, err := store.Open(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := store.Migrate(ctx, db)
	for _, n := range applied {
		fmt.Fprintln(stdout, "applied", n)
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "schema is up to date")
	}
	return validateConstraints(ctx, db, stdout)
}

// validateConstraints checks existing rows against constraints added NOT VALID; rows that
// break one are reported (verify names their accounts), not fatal: new rows are checked anyway.
func validateConstraints(ctx context.Context, db *sqlx.DB, stdout io.Writer) error {
	broken, err := store.ValidateConstraints(ctx, db)
	for _, c := range broken {
		fmt.Fprintf(stdout, "warning: existing rows break constraint %s (it applies to new rows); run 'portal verify'\n", c)
	}
	return err
}

func metricsMux(h http.Handler) *http.ServeMux {
	m := http.NewServeMux()
	m.Handle("GET /metrics", h)
	return m
}

func pprofMux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	return m
}
