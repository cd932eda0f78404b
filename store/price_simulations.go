package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"creditline/billing/simulate"
)

var _ simulate.Results = (*Store)(nil)

// SaveSimulation upserts a draft's latest simulation; a row of a later edit (stamp) stays.
func (s *Store) SaveSimulation(ctx context.Context, sv simulate.Saved) error {
	res, err := simulate.EncodeResult(sv.Result)
	if err != nil {
		return fmt.Errorf("store: save simulation: %w", err)
	}
	var doc *string
	if res != nil {
		x := string(res)
		doc = &x
	}
	msg := sv.ErrMessage
	if len(msg) > 500 {
		msg = msg[:500]
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO price_simulations AS p (draft_id, stamp, started_at, updated_at, finished_at, done,
			total, result, error_code, error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)
		ON CONFLICT (draft_id) DO UPDATE SET stamp = excluded.stamp, started_at = excluded.started_at,
			updated_at = excluded.updated_at, finished_at = excluded.finished_at, done = excluded.done, total = excluded.total,
			result = excluded.result, error_code = excluded.error_code, error = excluded.error
		WHERE p.stamp <= excluded.stamp`,
		sv.Draft, sv.Stamp.UTC(), sv.Started.UTC(), sv.Updated.UTC(), sv.Finished, max(sv.Done, 0), max(sv.Total, 0), doc,
		sv.ErrCode, msg)
	return mapErr("save simulation", err)
}

// Simulation reads a draft's latest simulation.
func (s *Store) Simulation(ctx context.Context, draftID int64) (simulate.Saved, bool, error) {
	var row struct {
		Draft    int64      `db:"draft_id"`
		Stamp    time.Time  `db:"stamp"`
		Started  time.Time  `db:"started_at"`
		Updated  time.Time  `db:"updated_at"`
		Finished *time.Time `db:"finished_at"`
		Done     int64      `db:"done"`
		Total    int64      `db:"total"`
		Result   []byte     `db:"result"`
		Code     string     `db:"error_code"`
		Message  string     `db:"error"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT draft_id, stamp, started_at, updated_at, finished_at, done, total, result,
		error_code, error FROM price_simulations WHERE draft_id = $1`, draftID)
	if err == sql.ErrNoRows {
		return simulate.Saved{}, false, nil
	}
	if err != nil {
		return simulate.Saved{}, false, mapErr("simulation", err)
	}
	res, err := simulate.DecodeResult(row.Result)
	if err != nil {
		return simulate.Saved{}, false, fmt.Errorf("store: simulation %d: decode: %w", draftID, err)
	}
	return simulate.Saved{Draft: row.Draft, Stamp: row.Stamp, Started: row.Started, Updated: row.Updated, Finished: row.Finished,
		Done: row.Done, Total: row.Total, Result: res, ErrCode: row.Code, ErrMessage: row.Message}, true, nil
}
