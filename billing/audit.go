package billing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Actor kinds of the audit log.
const (
	ActorUser    = "user"
	ActorAPIKey  = "api_key"
	ActorWebhook = "webhook"
	ActorJob     = "job"
	ActorSystem  = "system"
	ActorCLI     = "cli" // the portal command; the id is the operating-system user, when known
)

// Actor is who made a change: a signed-in user, an API key, a webhook event or a job.
type Actor struct {
	Kind string
	ID   string
}

// UserActor and KeyActor name the two actors of the console and the API.
func UserActor(id string) Actor { return Actor{Kind: ActorUser, ID: id} }
func KeyActor(id string) Actor  { return Actor{Kind: ActorAPIKey, ID: id} }

// CLIActor is the portal command run by an operating-system user ("" when unknown).
func CLIActor(user string) Actor { return Actor{Kind: ActorCLI, ID: user} }

// String is the actor as ledger entries name it ("user:usr_..", "key:key_..").
func (a Actor) String() string {
	switch a.Kind {
	case "", ActorSystem:
		return "system"
	case ActorAPIKey:
		return "key:" + a.ID
	case ActorCLI:
		if a.ID == "" {
			return ActorCLI
		}
	}
	return a.Kind + ":" + a.ID
}

// ParseActor reads an actor filter: a kind alone ("user", "api_key") or kind:id, where
// "key:" is accepted for API keys as the ledger writes it. ok is false for anything else.
func ParseActor(s string) (Actor, bool) {
	kind, id, _ := strings.Cut(strings.TrimSpace(s), ":")
	if kind == "key" {
		kind = ActorAPIKey
	}
	switch kind {
	case ActorUser, ActorAPIKey, ActorWebhook, ActorJob, ActorSystem, ActorCLI:
		return Actor{Kind: kind, ID: id}, true
	}
	return Actor{}, false
}

// Op is who asks for an operator action, why, and the key that makes it happen once.
type Op struct {
	Actor     Actor
	RequestID string
	// Reason is required (1-500 characters) for every operator action.
	Reason string
	// IdempotencyKey, when set, makes a repeat of the same request a replay.
	IdempotencyKey string
}

const maxReason = 500

// validate checks the reason and key into v.
func (op *Op) validate(v *Validation) {
	op.Reason = strings.TrimSpace(op.Reason)
	switch n := utf8.RuneCountInString(op.Reason); {
	case n == 0:
		v.Add("reason", "Required: say why (the audit log keeps it).")
	case n > maxReason:
		v.Add("reason", "Use at most %d characters.", maxReason)
	}
	if len(op.IdempotencyKey) > 255 {
		v.Add("idempotency_key", "Use at most 255 characters.")
	}
}

// Audit actions.
const (
	AuditGrant         = "grant.create"
	AuditRevoke        = "grant.revoke"
	AuditAccountUpdate = "account.update"
)

// AuditEntry is one append-only line of the audit log. Before and After are JSON objects
// (nil: none) of the state the action changed.
type AuditEntry struct {
	ID             int64     `db:"id"`
	At             time.Time `db:"at"`
	ActorKind      string    `db:"actor_kind"`
	ActorID        string    `db:"actor_id"`
	Action         string    `db:"action"`
	AccountID      *string   `db:"account_id"`
	Reason         string    `db:"reason"`
	Before         []byte    `db:"before"`
	After          []byte    `db:"after"`
	RequestID      string    `db:"request_id"`
	IdempotencyKey *string   `db:"idempotency_key"`
	RequestHash    string    `db:"request_hash"`
}

// Actor is the entry's actor.
func (e AuditEntry) Actor() Actor { return Actor{Kind: e.ActorKind, ID: e.ActorID} }

// AuditFilter selects a page of the audit log, newest first: entries older than BeforeID
// (0: from the newest), of one account and/or one actor (an empty ID: every actor of the kind).
type AuditFilter struct {
	AccountID string
	Actor     *Actor
	BeforeID  int64
	Limit     int
}

// AuditStore reads the audit log.
type AuditStore interface {
	// AuditPage returns up to f.Limit entries matching f, newest first.
	AuditPage(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

// AuditTx writes the audit log inside the transaction of the change it records.
type AuditTx interface {
	InsertAudit(ctx context.Context, e AuditEntry) error
	// AuditByKey returns the account's entry with that idempotency key; ENotFound when none.
	AuditByKey(ctx context.Context, accountID, key string) (AuditEntry, error)
}

// audit writes one entry for op inside tx; before and after are marshalled to JSON.
func (s *Service) audit(ctx context.Context, tx Tx, op Op, action, accountID, hash string, before, after any) error {
	e := AuditEntry{At: s.Now(), ActorKind: op.Actor.Kind, ActorID: op.Actor.ID, Action: action, AccountID: optional(accountID),
		Reason: op.Reason, RequestID: op.RequestID, IdempotencyKey: optional(op.IdempotencyKey), RequestHash: hash}
	if e.ActorKind == "" {
		e.ActorKind = ActorSystem
	}
	var err error
	if before != nil {
		if e.Before, err = json.Marshal(before); err != nil {
			return fmt.Errorf("billing: audit before: %w", err)
		}
	}
	if after != nil {
		if e.After, err = json.Marshal(after); err != nil {
			return fmt.Errorf("billing: audit after: %w", err)
		}
	}
	return tx.InsertAudit(ctx, e)
}

// auditGrantBy records a grant made by a payment event or a job, in its transaction; the
// actor is as ledger entries name it ("webhook:evt_..", "job:42"). A replayed grant, none.
func (s *Service) auditGrantBy(ctx context.Context, tx Tx, actor string, res GrantResult) error {
	if res.Replayed {
		return nil
	}
	op := Op{Actor: actorNamed(actor), Reason: res.Grant.Reason}
	return s.audit(ctx, tx, op, AuditGrant, res.Grant.AccountID, "", nil, snapshotGrant(res.Grant))
}

// actorNamed reads an actor as ledger entries name it; anything else is the system's.
func actorNamed(s string) Actor {
	if a, ok := ParseActor(s); ok {
		return a
	}
	return Actor{Kind: ActorSystem}
}

// replayed looks for an earlier action with op's key on the account (under the account's
// lock, so a concurrent twin has committed or not started). It returns the earlier entry,
// or idempotency_conflict when the key was used for another request.
func replayed(ctx context.Context, tx Tx, op Op, accountID, action, hash string) (*AuditEntry, error) {
	if op.IdempotencyKey == "" {
		return nil, nil
	}
	prev, err := tx.AuditByKey(ctx, accountID, op.IdempotencyKey)
	switch {
	case ErrorCode(err) == ENotFound:
		return nil, nil
	case err != nil:
		return nil, err
	case prev.Action != action || prev.RequestHash != hash:
		return nil, Errorf(EIdempotencyConflict, "Idempotency key %q was already used with a different request.", op.IdempotencyKey)
	}
	return &prev, nil
}

// requestHash fingerprints an action's parameters for idempotent replays.
func requestHash(parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%v|", p)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// AuditPage is a page of the audit log and the cursor of the next (0: none).
type AuditPage struct {
	Entries []AuditEntry
	Next    int64
}

// AuditLog lists entries newest first. Errors: invalid_request (limit).
func (s *Service) AuditLog(ctx context.Context, f AuditFilter) (AuditPage, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		return AuditPage{}, FieldError("limit", "Must be a whole number from 1 to 500.")
	}
	want := f.Limit
	f.Limit++
	es, err := s.store.AuditPage(ctx, f)
	if err != nil {
		return AuditPage{}, err
	}
	p := AuditPage{Entries: es}
	if len(es) > want {
		p.Entries = es[:want]
		p.Next = es[want-1].ID
	}
	return p, nil
}
