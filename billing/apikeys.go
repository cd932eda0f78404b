package billing

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
	"sync"
	"time"
)

// Key kinds: platform keys (sk_) act on any account; account keys (ak_) on their own only.
const (
	KeyPlatform = "platform"
	KeyAccount  = "account"
)

// APIKey is a stored key: only its hash and a visible prefix are kept.
type APIKey struct {
	ID         string     `db:"id"`
	Kind       string     `db:"kind"`
	AccountID  *string    `db:"account_id"`
	Name       string     `db:"name"`
	Prefix     string     `db:"prefix"`
	Hash       string     `db:"hash"`
	CreatedBy  string     `db:"created_by"`
	CreatedAt  time.Time  `db:"created_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
	// MemberID is the membership that created an account key (nil: an operator's key):
	// usage through it is attributed to that member.
	MemberID *string `db:"member_id"`
}

// APIKeyStore persists keys.
type APIKeyStore interface {
	// APIKeyByHash returns ENotFound for an unknown hash.
	APIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	APIKeysOf(ctx context.Context, accountID string) ([]APIKey, error)
	PlatformAPIKeys(ctx context.Context) ([]APIKey, error)
	InsertAPIKey(ctx context.Context, k APIKey) error
	// RevokeAPIKey returns ENotFound unless an unrevoked key with that id (in that account,
	// when accountID is set) exists.
	RevokeAPIKey(ctx context.Context, id, accountID string, at time.Time) error
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

func hashKey(raw string) string {
	h := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(h[:])
}

var secretEncoding = base32.NewEncoding(idAlphabet).WithPadding(base32.NoPadding)

// newSecret is 192 random bits; unlike ids, it carries no time.
func newSecret(prefix string) string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + strings.ToLower(secretEncoding.EncodeToString(b[:]))
}

// CreateAPIKey makes a key and returns the secret, shown this once; it is audited with the
// system as actor (the CLI, tests). accountID "" makes a platform key.
// Errors: invalid_request (name), not_found (account).
func (s *Service) CreateAPIKey(ctx context.Context, accountID, name, createdBy string) (APIKey, string, error) {
	return s.createKey(ctx, accountID, name, createdBy, Op{Actor: Actor{Kind: ActorSystem}}, "")
}

// CreateAccountKey makes a key of the account for op's actor (a user or a platform key) and
// audits it in the same transaction; the secret is returned this once, and kept out of the log.
// Errors: invalid_request (name), not_found (account).
func (s *Service) CreateAccountKey(ctx context.Context, accountID, name string, op Op) (APIKey, string, error) {
	return s.createKey(ctx, accountID, name, op.Actor.String(), op, "")
}

// createKey makes a key; memberID, when set, is the membership creating an account key (usage
// through it is attributed to that member).
func (s *Service) createKey(ctx context.Context, accountID, name, createdBy string, op Op, memberID string) (APIKey, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return APIKey{}, "", FieldError("name", "Give the key a name, e.g. \"production backend\".")
	}
	if len(name) > 100 {
		return APIKey{}, "", FieldError("name", "Use at most 100 characters.")
	}
	if p := singleLineProblem(name); p != "" {
		return APIKey{}, "", FieldError("name", "%s", p)
	}
	k := APIKey{ID: NewID("key"), Kind: KeyPlatform, Name: name, CreatedBy: createdBy, CreatedAt: s.Now()}
	raw := newSecret("sk_")
	if accountID != "" {
		if _, err := s.store.AccountByID(ctx, accountID); err != nil {
			return APIKey{}, "", err
		}
		k.Kind, k.AccountID, raw = KeyAccount, &accountID, newSecret("ak_")
		if memberID != "" {
			k.MemberID = &memberID
		}
	}
	k.Prefix, k.Hash = raw[:11], hashKey(raw)
	op.IdempotencyKey = "" // a second submit is a second key: its secret could not be shown again
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.InsertAPIKey(ctx, k); err != nil {
			return err
		}
		return s.audit(ctx, tx, op, AuditKeyCreate, accountID, "", nil, keySnapshot(k, false))
	})
	if err != nil {
		return APIKey{}, "", err
	}
	return k, raw, nil
}

// keyCache remembers authenticated keys briefly so the hot path does not read the table on
// every request; a revocation is announced to every instance (ApplyCacheEvent), and
// keyCacheTTL only bounds how long a key lives here while the listener is down.
type keyCache struct {
	mu      sync.Mutex
	byHash  map[string]cachedKey
	touched map[string]time.Time
	loads   flight[APIKey]
}

type cachedKey struct {
	key APIKey
	at  time.Time
}

const keyCacheTTL = 10 * time.Second

// AuthenticateKey returns the key behind a secret. Errors: unauthenticated.
func (s *Service) AuthenticateKey(ctx context.Context, raw string) (APIKey, error) {
	bad := Errorf(EUnauthenticated, "Invalid API key. Send Authorization: Bearer <key>, with a key from the console.")
	if !strings.HasPrefix(raw, "sk_") && !strings.HasPrefix(raw, "ak_") {
		return APIKey{}, bad
	}
	h := hashKey(raw)
	now := time.Now()
	c := &s.keys
	c.mu.Lock()
	if c.byHash == nil {
		c.byHash = map[string]cachedKey{}
	}
	ck, ok := c.byHash[h]
	c.mu.Unlock()
	if !ok || now.Sub(ck.at) > keyCacheTTL {
		k, err := c.loads.do(ctx, h, func(ctx context.Context) (APIKey, error) {
			return s.store.APIKeyByHash(ctx, h)
		}, func(k APIKey) {
			c.mu.Lock()
			c.byHash[h] = cachedKey{key: k, at: time.Now()}
			c.mu.Unlock()
		})
		if ErrorCode(err) == ENotFound {
			return APIKey{}, bad
		}
		if err != nil {
			return APIKey{}, err
		}
		ck = cachedKey{key: k, at: now}
	}
	if ck.key.RevokedAt != nil {
		return APIKey{}, Errorf(EUnauthenticated, "This API key was revoked.")
	}
	s.touchKey(ctx, ck.key.ID, now)
	return ck.key, nil
}

// touchKey records last use at most once a minute per key.
func (s *Service) touchKey(ctx context.Context, id string, now time.Time) {
	c := &s.keys
	c.mu.Lock()
	last := c.touched[id]
	due := now.Sub(last) > time.Minute
	if due {
		if c.touched == nil { // made here alone: forgetKeys resets byHash, never this
			c.touched = map[string]time.Time{}
		}
		c.touched[id] = now
	}
	c.mu.Unlock()
	if due {
		_ = s.store.TouchAPIKey(ctx, id, s.Now()) // best effort: last use is informational
	}
}

// RevokeAPIKey revokes a key; accountID scopes it ("" for platform administration).
// Errors: not_found.
func (s *Service) RevokeAPIKey(ctx context.Context, id, accountID string) error {
	if err := s.store.RevokeAPIKey(ctx, id, accountID, s.Now()); err != nil {
		if ErrorCode(err) == ENotFound {
			return Errorf(ENotFound, "No active API key %s.", id)
		}
		return err
	}
	s.keys.loads.forget()
	s.keys.mu.Lock()
	for h, ck := range s.keys.byHash {
		if ck.key.ID == id {
			delete(s.keys.byHash, h)
		}
	}
	s.keys.mu.Unlock()
	return nil
}

// APIKeys lists an account's keys, newest first.
func (s *Service) APIKeys(ctx context.Context, accountID string) ([]APIKey, error) {
	return s.store.APIKeysOf(ctx, accountID)
}

// PlatformAPIKeys lists the platform keys, newest first.
func (s *Service) PlatformAPIKeys(ctx context.Context) ([]APIKey, error) {
	return s.store.PlatformAPIKeys(ctx)
}

// ResolveAccount finds an account by id (acc_...) or by "external:<external_id>".
// Errors: not_found.
func (s *Service) ResolveAccount(ctx context.Context, ref string) (Account, error) {
	var a Account
	var err error
	if ext, ok := strings.CutPrefix(ref, "external:"); ok {
		a, err = s.store.AccountByExternalID(ctx, ext)
	} else {
		a, err = s.store.AccountByID(ctx, ref)
	}
	if ErrorCode(err) == ENotFound {
		return Account{}, Errorf(ENotFound, "No account %s.", ref)
	}
	return a, err
}
