package billing

import "context"

// CanManageAccount says whether a member with this role may change how the account works: its
// keys, spend limit and pause, alert rules and webhooks. Owners and admins manage the account;
// members use it (SPEC section 2). The role matrix (Can) is the one rule.
func CanManageAccount(role string) bool { return Can(role, ActManageLimits) }

// CreateMemberAPIKey is a customer creating a key for their own account in the portal, as the
// membership m (read from the store, with its id), which the key records: usage through it is
// attributed to m, and removing m, or demoting m below admin, revokes it. Only owners and
// admins, and only on a plan with api_access. (Operators issue keys through CreateAccountKey
// whatever the plan.) The secret is returned this once; the key is audited.
// Errors: not_found (role; m not a membership of acc), feature_not_entitled, invalid_request (name).
func (s *Service) CreateMemberAPIKey(ctx context.Context, acc Account, m Membership, name string, op Op) (APIKey, string, error) {
	if m.ID == "" || m.AccountID != acc.ID {
		return APIKey{}, "", Errorf(ENotFound, "Not found.") // a key always records the member who made it
	}
	if err := Authorize(m.Role, ActManageKeys); err != nil {
		return APIKey{}, "", err
	}
	plan, err := s.AccountPlan(ctx, acc)
	if err != nil {
		return APIKey{}, "", err
	}
	if !plan.Entitlements.APIAccess {
		return APIKey{}, "", notEntitled(FeatureAPIAccess, plan)
	}
	return s.createKey(ctx, acc.ID, name, op.Actor.String(), op, m.ID)
}

// RevokeCustomerAPIKey revokes one of the account's own keys, audited. Errors: not_found (role;
// no such active key in this account, including another account's key).
func (s *Service) RevokeCustomerAPIKey(ctx context.Context, acc Account, role, keyID string, op Op) error {
	if err := Authorize(role, ActManageKeys); err != nil {
		return err
	}
	return s.RevokeAccountKey(ctx, acc.ID, keyID, op)
}

// KeysOverview is the customer's API keys page: the keys, and whether the plan allows more.
type KeysOverview struct {
	Keys     []APIKey
	Plan     Plan
	Entitled bool
	// PlansWithAccess lists the active plans that include api_access (for the upgrade hint).
	PlansWithAccess []Plan
}

// KeysOverview reads an account's keys (newest first) and its plan's api_access.
func (s *Service) KeysOverview(ctx context.Context, acc Account) (KeysOverview, error) {
	plan, err := s.AccountPlan(ctx, acc)
	if err != nil {
		return KeysOverview{}, err
	}
	keys, err := s.store.APIKeysOf(ctx, acc.ID)
	if err != nil {
		return KeysOverview{}, err
	}
	with, err := s.PlansWith(ctx, FeatureAPIAccess)
	if err != nil {
		return KeysOverview{}, err
	}
	return KeysOverview{Keys: keys, Plan: plan, Entitled: plan.Entitlements.APIAccess, PlansWithAccess: with}, nil
}

// RevokeAccountKey revokes one of the account's keys for op's actor and audits it in the same
// transaction. Errors: not_found (no such active key in this account).
func (s *Service) RevokeAccountKey(ctx context.Context, accountID, keyID string, op Op) error {
	keys, err := s.store.APIKeysOf(ctx, accountID)
	if err != nil {
		return err
	}
	var k *APIKey
	for i := range keys {
		if keys[i].ID == keyID && keys[i].RevokedAt == nil {
			k = &keys[i]
		}
	}
	if k == nil {
		return Errorf(ENotFound, "No active API key %s.", keyID)
	}
	op.IdempotencyKey = ""
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.RevokeAPIKey(ctx, keyID, accountID, s.Now()); err != nil {
			if ErrorCode(err) == ENotFound { // a concurrent revoke won, and audited it
				return Errorf(ENotFound, "No active API key %s.", keyID)
			}
			return err
		}
		return s.audit(ctx, tx, op, AuditKeyRevoke, accountID, "", keySnapshot(*k, false), keySnapshot(*k, true))
	})
	s.forgetKey(keyID)
	return err
}
