package web

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"creditline/billing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the Prometheus registry of one server.
type Metrics struct {
	reg      *prometheus.Registry
	latency  *prometheus.HistogramVec
	handler  echo.HandlerFunc
	token    string // set by New from Deps.MetricsToken
	Registry prometheus.Registerer
}

// NewMetrics creates a registry with request latency by route, plus Go and process metrics.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_request_duration_seconds",
		Help:    "HTTP request latency by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"method", "route", "status"})
	reg.MustRegister(lat)
	return &Metrics{reg: reg, latency: lat, Registry: reg,
		handler: echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))}
}

// WatchGroupCommit exports the debit batcher's counters: transactions, debits and holds
// decided, and the seconds spent queued and in transactions.
func (m *Metrics) WatchGroupCommit(stats func() *billing.GroupCommitStats) {
	get := func(f func(*billing.GroupCommitStats) int64) func() float64 {
		return func() float64 {
			if s := stats(); s != nil {
				return float64(f(s))
			}
			return 0
		}
	}
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "creditline_group_commit_transactions_total", Help: "Transactions run by the debit batcher."},
			get(func(s *billing.GroupCommitStats) int64 { return s.Transactions.Load() })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "creditline_group_commit_ops_total", Help: "Debits and holds decided by the batcher."},
			get(func(s *billing.GroupCommitStats) int64 { return s.Ops.Load() })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "creditline_group_commit_tx_seconds_total", Help: "Seconds spent in batcher transactions."},
			func() float64 {
				return get(func(s *billing.GroupCommitStats) int64 { return s.TxNanos.Load() })() / 1e9
			}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "creditline_group_commit_wait_seconds_total", Help: "Seconds debits and holds spent queued for a transaction."},
			func() float64 {
				return get(func(s *billing.GroupCommitStats) int64 { return s.WaitNanos.Load() })() / 1e9
			}),
	)
}

// WatchLedger exports how debit batches were committed: lock-free, under locks, and the
// lock-free attempts redone under locks; the reads of accounts not cached, and how many
// accounts the ledger cache holds (cached).
func (m *Metrics) WatchLedger(s *billing.LedgerStats, cached func() int) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "creditline_ledger_lock_free_batches_total", Help: "Debit batches committed with one statement against cached accounts."},
			func() float64 { return float64(s.LockFree.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "creditline_ledger_locked_batches_total", Help: "Debit and hold batches that locked and read their accounts."},
			func() float64 { return float64(s.Locked.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "creditline_ledger_lock_free_fallbacks_total", Help: "Lock-free attempts redone under locks (account changed, key replayed, or more to write)."},
			func() float64 { return float64(s.Fallbacks.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "creditline_ledger_cold_reads_total", Help: "Reads of accounts not in the ledger cache (several accounts each)."},
			func() float64 { return float64(s.ColdReads.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "creditline_ledger_cache_accounts", Help: "Accounts in the ledger cache."},
			func() float64 { return float64(cached()) }),
	)
}

// Middleware records each request's latency under its route pattern (not its raw path) and
// the status the client received: an error is handed to the error handler here, first.
func (m *Metrics) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		m.latency.WithLabelValues(c.Request().Method, route, strconv.Itoa(c.Response().Status)).Observe(time.Since(start).Seconds())
		return err
	}
}

// Handler serves the Prometheus text format on the main server, only to a request bearing
// the metrics token; without a token configured, or with a wrong one, it is a 404.
func (m *Metrics) Handler(c echo.Context) error {
	got, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
	if m.token == "" || !ok || subtle.ConstantTimeCompare([]byte(got), []byte(m.token)) != 1 {
		return echo.ErrNotFound
	}
	return m.handler(c)
}

// HTTPHandler serves the Prometheus text format with no check, for a listener of its own
// (METRICS_ADDR) that only the monitoring network reaches.
func (m *Metrics) HTTPHandler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
