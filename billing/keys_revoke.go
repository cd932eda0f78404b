package billing

import "context"

// RevokeKey revokes a key of any kind by id (the portal command) and audits it in the same
// transaction, on its account for an account key. A key revoked already is not_found, and
// writes no second entry. Errors: not_found.
func (s *Service) RevokeKey(ctx context.Context, id string, op Op) error {
	err := s.store.InTx(ctx, func(tx Tx) error {
		k, err := tx.APIKeyForUpdate(ctx, id)
		if ErrorCode(err) == ENotFound || (err == nil && k.RevokedAt != nil) {
			return Errorf(ENotFound, "No active API key %s.", id)
		}
		if err != nil {
			return err
		}
		if err := tx.RevokeAPIKey(ctx, id, "", s.Now()); err != nil {
			return err
		}
		acc := ""
		if k.AccountID != nil {
			acc = *k.AccountID
		}
		return s.audit(ctx, tx, op, AuditKeyRevoke, acc, "", keySnapshot(k, false), keySnapshot(k, true))
	})
	s.forgetKey(id)
	return err
}

// forgetKeys drops every cached key: revocations may have gone unannounced.
func (s *Service) forgetKeys() {
	s.keys.loads.forget()
	s.keys.mu.Lock()
	s.keys.byHash = map[string]cachedKey{} // never nil: a load may be storing into it
	s.keys.mu.Unlock()
}
