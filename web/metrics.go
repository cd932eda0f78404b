package web

import (
	"strconv"
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
// lock-free attempts redone under locks.
func (m *Metrics) WatchLedger(s *billing.LedgerStats) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "creditline_ledger_lock_free_batches_total", Help: "Debit batches committed with one statement against cached accounts."},
			func() float64 { return float64(s.LockFree.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "creditline_ledger_locked_batches_total", Help: "Debit and hold batches that locked and read their accounts."},
			func() float64 { return float64(s.Locked.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "creditline_ledger_lock_free_fallbacks_total", Help: "Lock-free attempts redone under locks (account changed, key replayed, or more to write)."},
			func() float64 { return float64(s.Fallbacks.Load()) }),
	)
}

// Middleware records each request's latency under its route pattern (not its raw path).
func (m *Metrics) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil {
			if he, ok := err.(*echo.HTTPError); ok {
				status = he.Code
			}
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		m.latency.WithLabelValues(c.Request().Method, route, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
		return err
	}
}

// Handler serves the Prometheus text format.
func (m *Metrics) Handler(c echo.Context) error { return m.handler(c) }
