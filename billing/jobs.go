package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Job is a durable unit of background work. Handlers must be idempotent: a job may run
// more than once (a crash after the work, before it was marked done).
type Job struct {
	ID          int64           `db:"id"`
	Kind        string          `db:"kind"`
	Payload     json.RawMessage `db:"payload"`
	UniqueKey   *string         `db:"unique_key"`
	Status      string          `db:"status"`
	RunAt       time.Time       `db:"run_at"`
	Attempts    int             `db:"attempts"`
	MaxAttempts int             `db:"max_attempts"`
	LastError   string          `db:"last_error"`
	CreatedAt   time.Time       `db:"created_at"`
}

// NewJob builds a job with a JSON payload.
func NewJob(kind string, payload any, runAt time.Time, uniqueKey string) Job {
	b, err := json.Marshal(payload)
	if err != nil {
		panic(fmt.Sprintf("billing: job payload: %v", err)) // payloads are our own structs
	}
	return Job{Kind: kind, Payload: b, RunAt: runAt, UniqueKey: optional(uniqueKey), MaxAttempts: 10}
}

// JobStore claims and settles jobs.
type JobStore interface {
	// ClaimJobs marks up to limit due jobs running (skipping ones locked by other workers)
	// with a lease; a job whose lease ran out is claimed again.
	ClaimJobs(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]Job, error)
	FinishJob(ctx context.Context, id int64, now time.Time) error
	// RetryJob puts a failed job back with its error; retryAt nil marks it failed for good.
	RetryJob(ctx context.Context, id int64, errText string, retryAt *time.Time) error
	EnqueueJob(ctx context.Context, j Job) error
	RetentionStore
}

// JobHandler runs one job.
type JobHandler func(ctx context.Context, payload json.RawMessage) error

// Worker runs queued jobs and the periodic sweeps.
type Worker struct {
	svc      *Service
	log      *slog.Logger
	handlers map[string]JobHandler
	Poll     time.Duration
	Sweep    time.Duration
	mu       sync.Mutex
}

// NewWorker registers the ledger's job kinds.
func (s *Service) NewWorker(log *slog.Logger) *Worker {
	if log == nil {
		log = slog.Default()
	}
	w := &Worker{svc: s, log: log, handlers: map[string]JobHandler{}, Poll: 250 * time.Millisecond, Sweep: time.Minute}
	w.Handle(JobHoldExpire, s.handleHoldExpire)
	w.Handle(JobGrantExpire, s.handleGrantExpire)
	s.registerPaymentJobs(w)
	s.registerDunningJobs(w)
	w.Handle(JobSendMail, s.handleSendMail)
	w.Handle(JobAlertEmail, s.handleAlertEmail)
	w.Handle(JobMemberLimit, s.handleMemberLimitMail)
	w.Handle(JobRetentionPrune, s.handleRetentionPrune)
	return w
}

// Handle registers the handler of a job kind.
func (w *Worker) Handle(kind string, h JobHandler) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.handlers[kind] = h
}

// Run works until ctx is cancelled; a job in hand is finished first.
func (w *Worker) Run(ctx context.Context) {
	poll := time.NewTicker(w.Poll)
	sweep := time.NewTicker(w.Sweep)
	defer poll.Stop()
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			for w.RunDue(context.WithoutCancel(ctx)) > 0 && ctx.Err() == nil {
			}
		case <-sweep.C:
			w.sweep(context.WithoutCancel(ctx))
		}
	}
}

func (w *Worker) sweep(ctx context.Context) {
	if n, err := w.svc.ExpireGrants(ctx); err != nil {
		w.log.Error("grant expiry sweep", "err", err)
	} else if n > 0 {
		w.log.Info("grant expiry sweep", "accounts", n)
	}
	if n, err := w.svc.ExpireHolds(ctx); err != nil {
		w.log.Error("hold expiry sweep", "err", err)
	} else if n > 0 {
		w.log.Info("hold expiry sweep", "holds", n)
	}
	if n, err := w.svc.AlertExpiringCredits(ctx); err != nil {
		w.log.Error("expiring credits alerts", "err", err)
	} else if n > 0 {
		w.log.Info("expiring credits alerts", "announced", n)
	}
	if n, err := w.svc.PruneAuth(ctx); err != nil {
		w.log.Error("session pruning", "err", err)
	} else if n > 0 {
		w.log.Info("session pruning", "rows", n)
	}
	// Publications are announced (store.Listen); this is the backstop for one announced while
	// the listener was not yet subscribed or reconnecting, or whose reload failed.
	if loaded, err := w.svc.RefreshLiveBook(ctx); err != nil {
		w.log.Error("price book refresh", "err", err)
	} else if loaded {
		w.log.Warn("price book reloaded by the sweep: its publication was not applied when announced")
	}
	if err := w.svc.ScheduleRetention(ctx); err != nil {
		w.log.Error("retention job", "err", err)
	}
}

// RunDue claims and runs the jobs that are due now; it returns how many it ran.
func (w *Worker) RunDue(ctx context.Context) int {
	jobs, err := w.svc.store.ClaimJobs(ctx, w.svc.Now(), 20, 5*time.Minute)
	if err != nil {
		w.log.Error("claim jobs", "err", err)
		return 0
	}
	for _, j := range jobs {
		w.runOne(ctx, j)
	}
	return len(jobs)
}

func (w *Worker) runOne(ctx context.Context, j Job) {
	w.mu.Lock()
	h := w.handlers[j.Kind]
	w.mu.Unlock()
	var err error
	if h == nil {
		err = fmt.Errorf("no handler for job kind %q", j.Kind)
	} else {
		jctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
		err = h(jctx, j.Payload)
		cancel()
	}
	if err == nil {
		if err := w.svc.store.FinishJob(ctx, j.ID, w.svc.Now()); err != nil {
			w.log.Error("finish job", "id", j.ID, "err", err)
		}
		return
	}
	var retryAt *time.Time
	if j.Attempts < j.MaxAttempts {
		t := w.svc.Now().Add(Backoff(j.Attempts))
		retryAt = &t
	}
	w.log.Warn("job failed", "id", j.ID, "kind", j.Kind, "attempt", j.Attempts, "err", err, "retry", retryAt != nil)
	if err := w.svc.store.RetryJob(ctx, j.ID, err.Error(), retryAt); err != nil {
		w.log.Error("retry job", "id", j.ID, "err", err)
	}
}

// Backoff is exponential from 1 s, capped at one hour, with up to 25% jitter.
func Backoff(attempt int) time.Duration {
	d := time.Second << min(max(attempt-1, 0), 12)
	d = min(d, time.Hour)
	return d + time.Duration(rand.Int64N(int64(d)/4+1))
}
