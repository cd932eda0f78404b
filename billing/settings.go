package billing

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// Operator settings are values the console edits at run time (the pricing target margin,
// abuse thresholds): one JSON value per key, shared by every instance. The package that
// owns a setting owns its key, its default and its validation; this file only stores them.

// AuditSettingUpdate is the audit action of a changed operator setting.
const AuditSettingUpdate = "setting.update"

// maxSettingBytes bounds one setting's JSON (the schema refuses more, too).
const maxSettingBytes = 64 << 10

var settingKey = regexp.MustCompile(`^[a-z][a-z0-9_.]{0,62}$`)

// OperatorSettingStore reads operator settings.
type OperatorSettingStore interface {
	// OperatorSetting returns key's stored JSON; found is false when none is stored.
	OperatorSetting(ctx context.Context, key string) (value json.RawMessage, found bool, err error)
}

// OperatorSettingTx changes operator settings inside a transaction.
type OperatorSettingTx interface {
	// LockOperatorSetting returns key's stored JSON under a row lock; nil when none is stored.
	LockOperatorSetting(ctx context.Context, key string) (json.RawMessage, error)
	SaveOperatorSetting(ctx context.Context, key string, value json.RawMessage, by string, at time.Time) error
}

// OperatorSetting decodes key's stored value into into and reports whether one was stored;
// when none is, into keeps what the caller put there (its default).
func (s *Service) OperatorSetting(ctx context.Context, key string, into any) (bool, error) {
	raw, found, err := s.store.OperatorSetting(ctx, key)
	if err != nil || !found {
		return false, err
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return false, fmt.Errorf("billing: operator setting %s: %w", key, err)
	}
	return true, nil
}

// SetOperatorSetting stores value (marshalled to JSON) under key and audits the change with
// op's actor and reason; an unchanged value writes nothing. The caller validates the value.
// Errors: invalid_request (reason, key, value too large).
func (s *Service) SetOperatorSetting(ctx context.Context, op Op, key string, value any) error {
	var v Validation
	op.validate(&v)
	if !settingKey.MatchString(key) {
		v.Add("key", "Not a setting name.")
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("billing: operator setting %s: %w", key, err)
	}
	if len(raw) > maxSettingBytes {
		v.Add("value", "Too large: at most %d bytes of JSON.", maxSettingBytes)
	}
	if err := v.Err(); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		before, err := tx.LockOperatorSetting(ctx, key)
		if err != nil {
			return err
		}
		if before != nil && jsonEqual(before, raw) {
			return nil
		}
		if err := tx.SaveOperatorSetting(ctx, key, raw, op.Actor.String(), s.Now()); err != nil {
			return err
		}
		type snap struct {
			Key   string          `json:"key"`
			Value json.RawMessage `json:"value"`
		}
		var prev any
		if before != nil {
			prev = snap{key, before}
		}
		return s.audit(ctx, tx, op, AuditSettingUpdate, "", "", prev, snap{key, raw})
	})
}

// jsonEqual compares two JSON documents by value (jsonb reorders keys and spaces).
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}
