package store

import (
	"context"
	"time"

	"creditline/billing"
)

// The console's platform keys (written with their audit entry) and jobs page.

func (t *tx) InsertAPIKey(ctx context.Context, k billing.APIKey) error {
	_, err := t.tx.NamedExecContext(ctx, `INSERT INTO api_keys (`+keyCols+`) VALUES (:id, :kind, :account_id, :name, :prefix,
		:hash, :created_by, :created_at, :last_used_at, :revoked_at, :member_id)`, k)
	return mapErr("insert api key", err)
}

func (t *tx) RevokeAPIKey(ctx context.Context, id, accountID string, at time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $3
		WHERE id = $1 AND revoked_at IS NULL AND ($2 = '' OR account_id = $2)`, id, accountID, at)
	return affected("revoke api key", res, err)
}

func (t *tx) APIKeyForUpdate(ctx context.Context, id string) (billing.APIKey, error) {
	var k billing.APIKey
	err := t.tx.GetContext(ctx, &k, `SELECT `+keyCols+` FROM api_keys WHERE id = $1 FOR UPDATE`, id)
	return k, mapErr("api key for update", err)
}

const jobRowCols = jobCols + `, locked_until, finished_at`

func (s *Store) JobsByStatus(ctx context.Context, status string, limit int) ([]billing.JobRow, error) {
	var out []billing.JobRow
	err := s.db.SelectContext(ctx, &out, `SELECT `+jobRowCols+` FROM jobs WHERE status = $1
		ORDER BY CASE WHEN $1 IN ('queued', 'running') THEN run_at END, finished_at DESC NULLS LAST, id DESC LIMIT $2`, status, limit)
	return out, mapErr("jobs by status", err)
}

func (s *Store) JobCounts(ctx context.Context) (billing.JobCounts, error) {
	var c billing.JobCounts
	err := s.db.GetContext(ctx, &c, `SELECT count(*) FILTER (WHERE status = 'queued') AS queued,
			count(*) FILTER (WHERE status = 'running') AS running, count(*) FILTER (WHERE status = 'failed') AS failed,
			count(*) FILTER (WHERE status = 'done') AS done, count(*) FILTER (WHERE status = 'cancelled') AS cancelled
		FROM jobs`)
	return c, mapErr("job counts", err)
}

func (t *tx) RequeueFailedJob(ctx context.Context, id int64, now time.Time) (billing.JobRow, error) {
	var j billing.JobRow
	err := t.tx.GetContext(ctx, &j, `UPDATE jobs SET status = 'queued', run_at = $2, max_attempts = attempts + 1,
			finished_at = NULL, locked_until = NULL
		WHERE id = $1 AND status = 'failed' RETURNING `+jobRowCols, id, now)
	return j, mapErr("requeue failed job", err)
}

func (t *tx) CancelFailedJob(ctx context.Context, id int64, now time.Time) (billing.JobRow, error) {
	var j billing.JobRow
	err := t.tx.GetContext(ctx, &j, `UPDATE jobs SET status = 'cancelled', finished_at = $2
		WHERE id = $1 AND status = 'failed' RETURNING `+jobRowCols, id, now)
	return j, mapErr("cancel failed job", err)
}
