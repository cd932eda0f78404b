package simulate

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"creditline/billing/pricing"
)

// Runner runs one simulation per draft in the background and keeps the latest result of
// each in memory, on this instance only: a result is cheap to compute again, and a draft
// edited since is simulated afresh anyway.
type Runner struct {
	st  Store
	now func() time.Time
	mu  sync.Mutex
	// jobs by draft id; bounded by maxJobs (the oldest finished one goes first).
	jobs map[int64]*Job
}

const maxJobs = 32

// NewRunner builds a runner over st; now is the clock the 30-day window ends at.
func NewRunner(st Store, now func() time.Time) *Runner {
	if now == nil {
		now = time.Now
	}
	return &Runner{st: st, now: now, jobs: map[int64]*Job{}}
}

// Job is one simulation: its progress while it runs, then its result or error.
type Job struct {
	Draft    int64
	Stamp    time.Time // the draft's updated_at it simulated
	Started  time.Time
	done     atomic.Int64
	total    atomic.Int64
	finished chan struct{}
	Finished time.Time
	Result   *Result
	Err      error
}

// Progress is how many events are done of how many, and whether the job has finished.
func (j *Job) Progress() (done, total int64, finished bool) {
	select {
	case <-j.finished:
		finished = true
	default:
	}
	return j.done.Load(), j.total.Load(), finished
}

// Percent is the share done, 0..100.
func (j *Job) Percent() int {
	d, t, fin := j.Progress()
	switch {
	case fin:
		return 100
	case t <= 0:
		return 0
	}
	return int(min(d*100/t, 99))
}

// Wait blocks until the job finishes or ctx ends.
func (j *Job) Wait(ctx context.Context) error {
	select {
	case <-j.finished:
		return j.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Start simulates draft (whose last edit is stamp) unless a job for that same edit is
// running or done; it returns the job either way.
func (r *Runner) Start(draftID int64, stamp time.Time, draft *pricing.Book, target pricing.MarginTarget) *Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	if j := r.jobs[draftID]; j != nil && j.Stamp.Equal(stamp) && j.Err == nil {
		return j
	}
	j := &Job{Draft: draftID, Stamp: stamp, Started: r.now(), finished: make(chan struct{})}
	r.evict()
	r.jobs[draftID] = j
	go func() {
		// Its own context: the request that started it ends long before it does.
		res, err := Run(context.Background(), r.st, draft, target, r.now(), func(d, t int64) {
			j.done.Store(d)
			j.total.Store(t)
		})
		r.mu.Lock()
		j.Result, j.Err, j.Finished = res, err, r.now()
		r.mu.Unlock()
		close(j.finished)
	}()
	return j
}

// Job returns the latest job of a draft, nil when none.
func (r *Runner) Job(draftID int64) *Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.jobs[draftID]
}

// Snapshot returns the job's result and error once finished (under the lock they are set in).
func (r *Runner) Snapshot(j *Job) (*Result, error, bool) {
	if _, _, fin := j.Progress(); !fin {
		return nil, nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return j.Result, j.Err, true
}

func (r *Runner) evict() {
	if len(r.jobs) < maxJobs {
		return
	}
	var oldest *Job
	for _, j := range r.jobs {
		if _, _, fin := j.Progress(); fin && (oldest == nil || j.Started.Before(oldest.Started)) {
			oldest = j
		}
	}
	if oldest != nil {
		delete(r.jobs, oldest.Draft)
	}
}
