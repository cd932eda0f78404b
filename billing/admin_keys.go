package billing

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Audit actions of platform keys.
const (
	AuditKeyCreate = "api_key.create"
	AuditKeyRevoke = "api_key.revoke"
)

// AdminKeyTx writes platform keys inside the transaction of their audit entry.
type AdminKeyTx interface {
	InsertAPIKey(ctx context.Context, k APIKey) error
	// RevokeAPIKey returns ENotFound unless the key exists unrevoked (in accountID when set).
	RevokeAPIKey(ctx context.Context, id, accountID string, at time.Time) error
	// APIKeyForUpdate reads a key (any kind) and locks it. Errors: not_found.
	APIKeyForUpdate(ctx context.Context, id string) (APIKey, error)
}

// keySnapshot is what the audit log keeps of a key (never its hash).
func keySnapshot(k APIKey, revoked bool) map[string]any {
	return map[string]any{"id": k.ID, "kind": k.Kind, "name": k.Name, "prefix": k.Prefix, "revoked": revoked}
}

// optionalReason checks a reason that may be empty (at most 500 characters).
func optionalReason(op *Op) error {
	op.Reason = strings.TrimSpace(op.Reason)
	if utf8.RuneCountInString(op.Reason) > maxReason {
		return FieldError("reason", "Use at most %d characters.", maxReason)
	}
	return nil
}

// CreatePlatformKey makes a platform key (acts on every account) and audits it; the secret
// is returned this once. The reason is optional. Errors: invalid_request (name, reason).
func (s *Service) CreatePlatformKey(ctx context.Context, name string, op Op) (APIKey, string, error) {
	if err := optionalReason(&op); err != nil {
		return APIKey{}, "", err
	}
	k, raw, err := newPlatformKey(name, op.Actor.String(), s.Now())
	if err != nil {
		return APIKey{}, "", err
	}
	op.IdempotencyKey = "" // a second submit is a second key: its secret could not be shown again
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.InsertAPIKey(ctx, k); err != nil {
			return err
		}
		return s.audit(ctx, tx, op, AuditKeyCreate, "", "", nil, keySnapshot(k, false))
	})
	if err != nil {
		return APIKey{}, "", err
	}
	return k, raw, nil
}

func newPlatformKey(name, createdBy string, now time.Time) (APIKey, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return APIKey{}, "", FieldError("name", "Give the key a name, e.g. \"billing backend\".")
	}
	if utf8.RuneCountInString(name) > 100 {
		return APIKey{}, "", FieldError("name", "Use at most 100 characters.")
	}
	if p := singleLineProblem(name); p != "" {
		return APIKey{}, "", FieldError("name", "%s", p)
	}
	raw := newSecret("sk_")
	return APIKey{ID: NewID("key"), Kind: KeyPlatform, Name: name, CreatedBy: createdBy, CreatedAt: now,
		Prefix: raw[:11], Hash: hashKey(raw)}, raw, nil
}

// RevokePlatformKey revokes a platform key and audits it; revoking a revoked key again does
// nothing (Replayed). It is refused at once on this instance and within keyCacheTTL elsewhere.
// Errors: invalid_request (reason), not_found.
func (s *Service) RevokePlatformKey(ctx context.Context, id string, op Op) (replayed bool, err error) {
	var v Validation
	op.validate(&v)
	if err := v.Err(); err != nil {
		return false, err
	}
	keys, err := s.store.PlatformAPIKeys(ctx)
	if err != nil {
		return false, err
	}
	var k *APIKey
	for i := range keys {
		if keys[i].ID == id {
			k = &keys[i]
		}
	}
	if k == nil {
		return false, Errorf(ENotFound, "No platform key %s.", id)
	}
	if k.RevokedAt != nil {
		return true, nil
	}
	op.IdempotencyKey = ""
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.RevokeAPIKey(ctx, id, "", s.Now()); err != nil {
			if ErrorCode(err) == ENotFound {
				replayed = true // a concurrent twin revoked it first, and audited it
				return errReplay
			}
			return err
		}
		return s.audit(ctx, tx, op, AuditKeyRevoke, "", "", keySnapshot(*k, false), keySnapshot(*k, true))
	})
	if err == errReplay {
		err = nil
	}
	s.forgetKey(id)
	return replayed, err
}

// errReplay rolls back a transaction that found its work already done.
var errReplay = &Error{Code: EConflict, Message: "already done"}

// forgetKey drops a key from this instance's cache, so its next use reads the table.
func (s *Service) forgetKey(id string) {
	s.keys.loads.forget()
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	for h, ck := range s.keys.byHash {
		if ck.key.ID == id {
			delete(s.keys.byHash, h)
		}
	}
}
