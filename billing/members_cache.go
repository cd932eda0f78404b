package billing

import (
	"context"
	"strings"
	"sync"
)

// memberCache keeps, per account, its members for attribution (mem_ ids, emails), so the debit
// path resolves a member without a query. It is dropped per account when a membership
// changes (here, or on any instance through the account change notification).
type memberCache struct {
	mu  sync.RWMutex
	m   map[string]*memberSet
	gen uint64 // bumped by every forget: a load that overlapped one is not kept
}

type memberSet struct {
	byID    map[string]MemberRef
	byEmail map[string]string // email -> member id
}

func (c *memberCache) forget(accountID string) {
	c.mu.Lock()
	delete(c.m, accountID)
	c.gen++
	c.mu.Unlock()
}

func (c *memberCache) clear() {
	c.mu.Lock()
	c.m = nil
	c.gen++
	c.mu.Unlock()
}

// forgetMembers drops the account's cached members (after a membership change).
func (s *Service) forgetMembers(accountID string) { s.members.forget(accountID) }

// memberSetOf returns the account's members, cached.
func (s *Service) memberSetOf(ctx context.Context, accountID string) (*memberSet, error) {
	c := &s.members
	c.mu.RLock()
	set, gen := c.m[accountID], c.gen
	c.mu.RUnlock()
	if set != nil {
		return set, nil
	}
	refs, err := s.store.MemberRefs(ctx, accountID)
	if err != nil {
		return nil, err
	}
	set = &memberSet{byID: make(map[string]MemberRef, len(refs)), byEmail: make(map[string]string, len(refs))}
	for _, r := range refs {
		set.byID[r.ID], set.byEmail[r.Email] = r, r.ID
	}
	c.mu.Lock()
	if c.gen == gen {
		if c.m == nil {
			c.m = map[string]*memberSet{}
		}
		c.m[accountID] = set
	}
	c.mu.Unlock()
	return set, nil
}

// MaxMemberRef bounds the member field of usage, estimate and reservation bodies.
const MaxMemberRef = 270

// resolveMember turns the body's member ("mem_..." or "email:<address>") and the key's own
// member into the member id usage is attributed to ("" for none). Errors: invalid_request on
// field member (unknown, another account's, malformed, or not the key's member).
func (s *Service) resolveMember(ctx context.Context, accountID, ref string, key *APIKey) (string, error) {
	keyMember := ""
	if key != nil && key.MemberID != nil {
		keyMember = *key.MemberID
	}
	if ref == "" {
		return keyMember, nil // the key's member was a member when the key was made; removal revokes it
	}
	if len(ref) > MaxMemberRef {
		return "", FieldError("member", "Name a member as mem_... or email:<address>.")
	}
	var id string
	switch {
	case strings.HasPrefix(ref, "mem_"):
		id = ref
	case strings.HasPrefix(ref, "email:"):
		email := NormalizeEmail(strings.TrimPrefix(ref, "email:"))
		set, err := s.memberSetOf(ctx, accountID)
		if err != nil {
			return "", err
		}
		if id = set.byEmail[email]; id == "" {
			return "", FieldError("member", "No member of this account has the email %q.", email)
		}
	default:
		return "", FieldError("member", "Name a member as mem_... or email:<address>.")
	}
	set, err := s.memberSetOf(ctx, accountID)
	if err != nil {
		return "", err
	}
	if _, ok := set.byID[id]; !ok {
		return "", FieldError("member", "No member %s in this account.", id)
	}
	if keyMember != "" && id != keyMember {
		return "", FieldError("member", "This key belongs to member %s; usage through it cannot be attributed to another member.", keyMember)
	}
	return id, nil
}
