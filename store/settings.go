package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// OperatorSetting returns the stored JSON value of key; found is false when none is stored.
func (s *Store) OperatorSetting(ctx context.Context, key string) (json.RawMessage, bool, error) {
	var v []byte
	err := s.db.GetContext(ctx, &v, `SELECT value FROM operator_settings WHERE key = $1`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: operator setting %s: %w", key, err)
	}
	return v, true, nil
}

// LockOperatorSetting reads key's value under a row lock (nil when none is stored), so that
// two concurrent edits audit the right "before".
func (t *tx) LockOperatorSetting(ctx context.Context, key string) (json.RawMessage, error) {
	var v []byte
	err := t.tx.GetContext(ctx, &v, `SELECT value FROM operator_settings WHERE key = $1 FOR UPDATE`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return v, mapErr("lock operator setting", err)
}

func (t *tx) SaveOperatorSetting(ctx context.Context, key string, value json.RawMessage, by string, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO operator_settings (key, value, updated_at, updated_by)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
		key, string(value), at, by)
	return mapErr("save operator setting", err)
}
