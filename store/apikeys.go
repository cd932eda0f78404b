package store

import (
	"context"
	"time"

	"creditline/billing"
)

const keyCols = `id, kind, account_id, name, prefix, hash, created_by, created_at, last_used_at, revoked_at, member_id`

func (s *Store) APIKeyByHash(ctx context.Context, hash string) (billing.APIKey, error) {
	var k billing.APIKey
	err := s.db.GetContext(ctx, &k, `SELECT `+keyCols+` FROM api_keys WHERE hash = $1`, hash)
	return k, mapErr("api key by hash", err)
}

func (s *Store) APIKeysOf(ctx context.Context, accountID string) ([]billing.APIKey, error) {
	var out []billing.APIKey
	err := s.db.SelectContext(ctx, &out, `SELECT `+keyCols+` FROM api_keys WHERE account_id = $1 ORDER BY created_at DESC, id`, accountID)
	return out, mapErr("api keys", err)
}

func (s *Store) PlatformAPIKeys(ctx context.Context) ([]billing.APIKey, error) {
	var out []billing.APIKey
	err := s.db.SelectContext(ctx, &out, `SELECT `+keyCols+` FROM api_keys WHERE kind = 'platform' ORDER BY created_at DESC, id`)
	return out, mapErr("platform api keys", err)
}

func (s *Store) InsertAPIKey(ctx context.Context, k billing.APIKey) error {
	_, err := s.db.NamedExecContext(ctx, `INSERT INTO api_keys (`+keyCols+`) VALUES (:id, :kind, :account_id, :name, :prefix,
		:hash, :created_by, :created_at, :last_used_at, :revoked_at, :member_id)`, k)
	return mapErr("insert api key", err)
}

func (s *Store) RevokeAPIKey(ctx context.Context, id, accountID string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $3
		WHERE id = $1 AND revoked_at IS NULL AND ($2 = '' OR account_id = $2)`, id, accountID, at)
	return affected("revoke api key", res, err)
}

func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1`, id, at)
	return mapErr("touch api key", err)
}
