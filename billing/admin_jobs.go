package billing

import (
	"context"
	"time"
)

// Audit actions of the jobs page.
const (
	AuditJobRetry  = "job.retry"
	AuditJobCancel = "job.cancel"
)

// Job statuses; cancelled is an operator's "give up" on a failed job, kept for the record.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobDone      = "done"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)

// JobRow is a job as the console lists it.
type JobRow struct {
	Job
	LockedUntil *time.Time `db:"locked_until"`
	FinishedAt  *time.Time `db:"finished_at"`
}

// JobCounts counts jobs by status.
type JobCounts struct {
	Queued    int `db:"queued"`
	Running   int `db:"running"`
	Failed    int `db:"failed"`
	Done      int `db:"done"`
	Cancelled int `db:"cancelled"`
}

// AdminJobStore reads the jobs table for the console.
type AdminJobStore interface {
	// JobsByStatus lists up to limit jobs of one status: queued and running by due time,
	// finished ones newest first.
	JobsByStatus(ctx context.Context, status string, limit int) ([]JobRow, error)
	JobCounts(ctx context.Context) (JobCounts, error)
}

// AdminJobTx changes a failed job. Both return ENotFound unless the job exists and is failed.
type AdminJobTx interface {
	// RequeueFailedJob queues a failed job to run now, with one more attempt.
	RequeueFailedJob(ctx context.Context, id int64, now time.Time) (JobRow, error)
	CancelFailedJob(ctx context.Context, id int64, now time.Time) (JobRow, error)
}

// JobsView is the console's jobs page.
type JobsView struct {
	Counts                          JobCounts
	Queued, Running, Failed, Recent []JobRow
}

// JobsPageLimit bounds each list of the jobs page.
const JobsPageLimit = 50

// Jobs lists queued, running, failed and recently finished jobs.
func (s *Service) Jobs(ctx context.Context) (JobsView, error) {
	var v JobsView
	var err error
	if v.Counts, err = s.store.JobCounts(ctx); err != nil {
		return v, err
	}
	for _, l := range []struct {
		status string
		into   *[]JobRow
	}{{JobQueued, &v.Queued}, {JobRunning, &v.Running}, {JobFailed, &v.Failed}, {JobDone, &v.Recent}} {
		if *l.into, err = s.store.JobsByStatus(ctx, l.status, JobsPageLimit); err != nil {
			return v, err
		}
	}
	return v, nil
}

func jobSnapshot(j JobRow) map[string]any {
	return map[string]any{"id": j.ID, "kind": j.Kind, "status": j.Status, "attempts": j.Attempts, "max_attempts": j.MaxAttempts, "last_error": j.LastError}
}

// RetryFailedJob runs a failed job again now, with one more attempt, and audits it; a job no
// longer failed (already retried or cancelled) gives Replayed. The reason is optional.
// Errors: invalid_request (reason), not_found.
func (s *Service) RetryFailedJob(ctx context.Context, id int64, op Op) (bool, error) {
	return s.settleFailedJob(ctx, id, op, AuditJobRetry)
}

// CancelFailedJob marks a failed job cancelled (it never runs again) and audits it; see
// RetryFailedJob for replays and errors.
func (s *Service) CancelFailedJob(ctx context.Context, id int64, op Op) (bool, error) {
	return s.settleFailedJob(ctx, id, op, AuditJobCancel)
}

func (s *Service) settleFailedJob(ctx context.Context, id int64, op Op, action string) (replayed bool, err error) {
	if err := optionalReason(&op); err != nil {
		return false, err
	}
	op.IdempotencyKey = "" // the job's status makes a repeat a no-op
	err = s.store.InTx(ctx, func(tx Tx) error {
		var j JobRow
		var err error
		if action == AuditJobRetry {
			j, err = tx.RequeueFailedJob(ctx, id, s.Now())
		} else {
			j, err = tx.CancelFailedJob(ctx, id, s.Now())
		}
		if ErrorCode(err) == ENotFound {
			replayed = true
			return errReplay
		}
		if err != nil {
			return err
		}
		before := jobSnapshot(j)
		before["status"] = JobFailed
		return s.audit(ctx, tx, op, action, "", "", before, jobSnapshot(j))
	})
	if err == errReplay {
		err = nil
	}
	return replayed, err
}
