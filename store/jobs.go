package store

import (
	"context"
	"database/sql"
	"time"

	"creditline/billing"
)

var sqlTxReadOnlySnapshot = sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}

const jobCols = `id, kind, payload, unique_key, status, run_at, attempts, max_attempts, last_error, created_at`

func enqueue(ctx context.Context, q execer, j billing.Job) error {
	payload := j.Payload
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if j.MaxAttempts == 0 {
		j.MaxAttempts = 10
	}
	_, err := q.ExecContext(ctx, `INSERT INTO jobs (kind, payload, unique_key, run_at, max_attempts)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND status IN ('queued', 'running') DO NOTHING`,
		j.Kind, string(payload), j.UniqueKey, j.RunAt, j.MaxAttempts)
	return mapErr("enqueue job", err)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Enqueue adds a job inside the caller's transaction, so it exists only if the cause commits.
func (t *tx) Enqueue(ctx context.Context, j billing.Job) error { return enqueue(ctx, t.tx, j) }

func (s *Store) EnqueueJob(ctx context.Context, j billing.Job) error { return enqueue(ctx, s.db, j) }

// ClaimJobs leases due jobs, skipping rows other workers hold, and takes back expired leases.
func (s *Store) ClaimJobs(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]billing.Job, error) {
	var out []billing.Job
	err := s.db.SelectContext(ctx, &out, `UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = $1::timestamptz + $3 * interval '1 second'
		WHERE id IN (
			SELECT id FROM jobs
			WHERE (status = 'queued' AND run_at <= $1) OR (status = 'running' AND locked_until < $1)
			ORDER BY run_at LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING `+jobCols, now, limit, lease.Seconds())
	return out, mapErr("claim jobs", err)
}

func (s *Store) FinishJob(ctx context.Context, id int64, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE jobs SET status = 'done', finished_at = $2, locked_until = NULL WHERE id = $1`, id, now)
	return mapErr("finish job", err)
}

func (s *Store) RetryJob(ctx context.Context, id int64, errText string, retryAt *time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE jobs SET last_error = $2, locked_until = NULL,
			status = CASE WHEN $3::timestamptz IS NULL THEN 'failed' ELSE 'queued' END,
			run_at = COALESCE($3::timestamptz, run_at),
			finished_at = CASE WHEN $3::timestamptz IS NULL THEN now() ELSE NULL END
		WHERE id = $1`, id, errText, retryAt)
	return mapErr("retry job", err)
}

// PruneJobs deletes one batch; SKIP LOCKED leaves rows another prune holds to it.
func (s *Store) PruneJobs(ctx context.Context, before time.Time, limit int) (int64, error) {
	return deleted("prune jobs")(s.db.ExecContext(ctx, `DELETE FROM jobs WHERE id IN (
		SELECT id FROM jobs WHERE status IN ('done', 'failed', 'cancelled') AND finished_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, before, limit))
}

// deleted reads a DELETE's row count, its error wrapped as what.
func deleted(what string) func(sql.Result, error) (int64, error) {
	return func(res sql.Result, err error) (int64, error) {
		if err != nil {
			return 0, mapErr(what, err)
		}
		n, err := res.RowsAffected()
		return n, mapErr(what, err)
	}
}
