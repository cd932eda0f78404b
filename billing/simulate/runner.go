package simulate

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"creditline/billing/pricing"
	"creditline/billing/value"
)

// Runner runs one simulation per draft in the background. When its store also keeps
// Results, each run's progress and figures are saved there, so every instance shows them and
// a second instance joins a run instead of repeating it; otherwise they stay in this
// instance's memory.
type Runner struct {
	st  Store
	res Results // nil: memory only
	now func() time.Time
	mu  sync.Mutex
	// jobs by draft id, the ones this instance ran; bounded by maxJobs (the oldest finished goes first).
	jobs map[int64]*Job
}

const maxJobs = 32

// Saved is a simulation as every instance reads it (migration 0025).
type Saved struct {
	Draft                   int64
	Stamp, Started, Updated time.Time
	Finished                *time.Time
	Done, Total             int64
	Result                  *Result
	ErrCode, ErrMessage     string
}

// Results keeps simulations where every instance reads them; implemented in package store.
type Results interface {
	// SaveSimulation writes s as its draft's latest simulation, unless one of a later edit
	// of the draft is there already. A draft deleted meanwhile makes it an error.
	SaveSimulation(ctx context.Context, s Saved) error
	// Simulation reads a draft's latest simulation; ok is false when there is none.
	Simulation(ctx context.Context, draftID int64) (s Saved, ok bool, err error)
}

const (
	// saveEvery is how often a running simulation's progress is written.
	saveEvery = 500 * time.Millisecond
	// StaleAfter: a run whose progress has not been written for this long is taken as
	// abandoned (its instance stopped); the next Start runs it again.
	StaleAfter = 15 * time.Second
	ioTimeout  = 5 * time.Second
)

// NewRunner builds a runner over st (and over its Results, when it keeps them); now is the
// clock the 30-day window ends at.
func NewRunner(st Store, now func() time.Time) *Runner {
	if now == nil {
		now = time.Now
	}
	res, _ := st.(Results)
	return &Runner{st: st, res: res, now: now, jobs: map[int64]*Job{}}
}

// Job is one simulation: its progress while it runs, then its result or error. A job read
// from Results (run by another instance, or before this one started) is a snapshot.
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
	saved    *Saved  // set on a snapshot read from Results
	runner   *Runner // to wait on a snapshot
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

// errAbandoned: the instance running a simulation stopped before it finished.
var errAbandoned = value.Errorf(value.EConflict, "The simulation stopped before it finished; run it again.")

// Wait blocks until the job finishes or ctx ends. A snapshot of a run on another instance is
// followed through Results until it finishes or is abandoned.
func (j *Job) Wait(ctx context.Context) error {
	if j.saved == nil {
		select {
		case <-j.finished:
			return j.Err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		if _, _, fin := j.Progress(); fin {
			return j.Err
		}
		if j.runner.now().Sub(j.saved.Updated) > StaleAfter {
			return errAbandoned
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		sv, ok, err := j.runner.res.Simulation(ctx, j.Draft)
		if err != nil {
			return err
		}
		if !ok || !sv.Started.Equal(j.Started) {
			return errAbandoned // replaced by a later run
		}
		j.load(sv)
	}
}

// Start simulates draft (whose last edit is stamp) unless a job for that same edit is
// running or done, here or (through Results) on another instance; it returns the job either way.
func (r *Runner) Start(draftID int64, stamp time.Time, draft *pricing.Book, target pricing.MarginTarget) *Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	if j := r.jobs[draftID]; j != nil && j.Stamp.Equal(stamp) && j.Err == nil {
		return j
	}
	if r.res != nil {
		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		sv, ok, err := r.res.Simulation(ctx, draftID)
		cancel()
		if err == nil && ok && sv.Stamp.Equal(stamp) && sv.ErrCode == "" && (sv.Finished != nil || r.now().Sub(sv.Updated) <= StaleAfter) {
			return r.snapshot(sv)
		}
	}
	j := &Job{Draft: draftID, Stamp: stamp, Started: r.now().Truncate(time.Microsecond), finished: make(chan struct{})}
	r.evict()
	r.jobs[draftID] = j
	r.save(j, nil)
	go r.run(j, draft, target)
	return j
}

// run simulates in the background, writing progress every saveEvery and the figures at the
// end from this one goroutine, so the last write is the final one.
func (r *Runner) run(j *Job, draft *pricing.Book, target pricing.MarginTarget) {
	type outcome struct {
		res *Result
		err error
	}
	out := make(chan outcome, 1)
	go func() {
		// Its own context: the request that started it ends long before it does.
		res, err := Run(context.Background(), r.st, draft, target, r.now(), func(d, t int64) {
			j.done.Store(d)
			j.total.Store(t)
		})
		out <- outcome{res, err}
	}()
	tick := time.NewTicker(saveEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			r.save(j, nil)
		case o := <-out:
			r.mu.Lock()
			j.Result, j.Err, j.Finished = o.res, o.err, r.now()
			r.mu.Unlock()
			fin := j.Finished
			r.save(j, &fin)
			close(j.finished)
			return
		}
	}
}

// save writes j's state to Results; a failure leaves the other instances a stale row, which
// the next Start replaces, and this one its memory.
func (r *Runner) save(j *Job, finished *time.Time) {
	if r.res == nil {
		return
	}
	sv := Saved{Draft: j.Draft, Stamp: j.Stamp, Started: j.Started, Updated: r.now(), Finished: finished,
		Done: j.done.Load(), Total: j.total.Load()}
	if finished != nil {
		r.mu.Lock()
		sv.Result = j.Result
		if j.Err != nil {
			sv.ErrCode, sv.ErrMessage = value.ErrorCode(j.Err), "The simulation failed; run it again."
			var e *value.Error
			if errors.As(j.Err, &e) && e.Code != value.EInternal {
				sv.ErrMessage = e.Message
			}
		}
		r.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	_ = r.res.SaveSimulation(ctx, sv)
}

// snapshot is a Job standing for a saved simulation.
func (r *Runner) snapshot(sv Saved) *Job {
	j := &Job{Draft: sv.Draft, Stamp: sv.Stamp, Started: sv.Started, finished: make(chan struct{}), runner: r}
	j.load(sv)
	return j
}

// load brings a snapshot up to sv (the same run, read again); only its caller holds it.
func (j *Job) load(sv Saved) {
	j.saved = &sv
	j.done.Store(sv.Done)
	j.total.Store(sv.Total)
	if sv.Finished == nil {
		return
	}
	j.Finished, j.Result = *sv.Finished, sv.Result
	if sv.ErrCode != "" {
		j.Err = &value.Error{Code: sv.ErrCode, Message: sv.ErrMessage}
	}
	close(j.finished)
}

// Job returns the latest job of a draft: the one saved in Results when it is newer than this
// instance's own, else this instance's; nil when none.
func (r *Runner) Job(draftID int64) *Job {
	r.mu.Lock()
	local := r.jobs[draftID]
	r.mu.Unlock()
	if r.res == nil {
		return local
	}
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	sv, ok, err := r.res.Simulation(ctx, draftID)
	if err != nil || !ok || (local != nil && !sv.Started.After(local.Started)) {
		return local
	}
	return r.snapshot(sv)
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

// savedResult is a Result with its window, as Results keeps it.
type savedResult struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	*Result
}

// EncodeResult and DecodeResult are the JSON a store keeps a result as.
func EncodeResult(r *Result) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	return json.Marshal(savedResult{From: r.From, To: r.To, Result: r})
}

func DecodeResult(b []byte) (*Result, error) {
	if len(b) == 0 {
		return nil, nil
	}
	s := savedResult{Result: &Result{}}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	s.Result.From, s.Result.To = s.From, s.To
	return s.Result, nil
}
