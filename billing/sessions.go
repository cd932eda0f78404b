package billing

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Session lifetimes: a session dies after SessionIdle without a request, and SessionLifetime
// after sign-in whatever happens. The cookie's MaxAge is SessionLifetime.
const (
	SessionIdle     = 7 * 24 * time.Hour
	SessionLifetime = 30 * 24 * time.Hour
	// sessionTouchEvery bounds last_seen_at writes to one a minute per session.
	sessionTouchEvery = time.Minute
)

// Session is the server's record of a signed-in browser. The cookie carries a random id;
// only its sha256 is stored, so a database dump holds no usable session.
type Session struct {
	IDHash     []byte     `db:"id_hash"`
	UserID     string     `db:"user_id"`
	CreatedAt  time.Time  `db:"created_at"`
	LastSeenAt time.Time  `db:"last_seen_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
	IP         string     `db:"ip"`
	UserAgent  string     `db:"user_agent"`
}

// Client is who signs in: the address and user agent recorded with a session.
type Client struct {
	IP        string
	UserAgent string
}

// AuthStore reads sessions, pending sign-ups and the outbox.
type AuthStore interface {
	// SessionByHash returns a session with its user in one indexed lookup; ENotFound when no
	// such session exists or its user is gone.
	SessionByHash(ctx context.Context, idHash []byte) (Session, User, error)
	// TouchSession records activity on a session.
	TouchSession(ctx context.Context, idHash []byte, at time.Time) error
	OutboxStore
	// PruneSessions deletes sessions created before createdBefore, or last seen (or revoked)
	// before idleBefore; it returns how many.
	PruneSessions(ctx context.Context, createdBefore, idleBefore time.Time) (int64, error)
	// PruneSignupRequests deletes pending sign-ups that expired before the given time.
	PruneSignupRequests(ctx context.Context, expiredBefore time.Time) (int64, error)
}

// AuthTx writes sessions, passwords, pending sign-ups and mail inside a transaction.
type AuthTx interface {
	CreateSession(ctx context.Context, s Session) error
	// RevokeSession ends one session; an unknown or revoked id is no error.
	RevokeSession(ctx context.Context, idHash []byte, at time.Time) error
	// RevokeUserSessions ends every live session of a user.
	RevokeUserSessions(ctx context.Context, userID string, at time.Time) error
	// SetPassword returns ENotFound for an unknown user.
	SetPassword(ctx context.Context, userID, passwordHash string) error
	CreateSignupRequest(ctx context.Context, r SignupRequest) error
	// SignupRequestForUpdate locks a pending sign-up; ENotFound for an unknown token.
	SignupRequestForUpdate(ctx context.Context, tokenHash []byte) (SignupRequest, error)
	UseSignupRequest(ctx context.Context, tokenHash []byte, at time.Time) error
	// QueueMail writes a message to the outbox and returns its id.
	QueueMail(ctx context.Context, m Mail) (int64, error)
}

// NewToken returns 32 random bytes, URL-safe base64: session ids and email link tokens.
func NewToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("billing: crypto/rand: " + err.Error()) // never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HashToken is what the database keeps of a token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func newSession(userID string, cl Client, now time.Time) (string, Session) {
	sid := NewToken()
	ua := printable(cl.UserAgent, maxUserAgent)
	ip := cl.IP
	if len(ip) > 64 {
		ip = ip[:64]
	}
	return sid, Session{IDHash: HashToken(sid), UserID: userID, CreatedAt: now, LastSeenAt: now, IP: ip, UserAgent: ua}
}

// maxUserAgent bounds the user agent a session records, in bytes.
const maxUserAgent = 200

// printable keeps the printable characters of s (letters, marks, numbers, punctuation,
// symbols, the ASCII space) up to max bytes: a user agent is shown on the sessions page and
// may carry controls, line breaks or bidi overrides meant to mislead.
func printable(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > max {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// StartSession records a new session for a user who just proved who they are, and returns
// the id for the cookie.
func (s *Service) StartSession(ctx context.Context, userID string, cl Client) (string, error) {
	sid, sess := newSession(userID, cl, s.Now())
	if err := s.store.InTx(ctx, func(tx Tx) error { return tx.CreateSession(ctx, sess) }); err != nil {
		return "", err
	}
	return sid, nil
}

// SessionUser returns the user of a live session, touching it at most once a minute.
// Errors: unauthenticated (unknown, revoked, idle too long, too old, or the user is gone).
func (s *Service) SessionUser(ctx context.Context, sid string) (User, error) {
	dead := &Error{Code: EUnauthenticated, Message: "Your session has ended. Sign in again."}
	if sid == "" {
		return User{}, dead
	}
	sess, u, err := s.store.SessionByHash(ctx, HashToken(sid))
	if ErrorCode(err) == ENotFound {
		return User{}, dead
	}
	if err != nil {
		return User{}, err
	}
	now := s.Now()
	if !sessionAlive(sess, now) {
		return User{}, dead
	}
	if now.Sub(sess.LastSeenAt) >= sessionTouchEvery {
		if err := s.store.TouchSession(ctx, sess.IDHash, now); err != nil {
			return User{}, err
		}
	}
	return u, nil
}

func sessionAlive(sess Session, now time.Time) bool {
	return sess.RevokedAt == nil && now.Sub(sess.LastSeenAt) < SessionIdle && now.Sub(sess.CreatedAt) < SessionLifetime
}

// EndSession revokes a session for good: the same cookie replayed later is anonymous.
func (s *Service) EndSession(ctx context.Context, sid string) error {
	if sid == "" {
		return nil
	}
	return s.store.InTx(ctx, func(tx Tx) error { return tx.RevokeSession(ctx, HashToken(sid), s.Now()) })
}

// ChangePasswordInput is what the change-password form sends.
type ChangePasswordInput struct {
	Current, New, Confirm string
}

// ChangePassword checks the current password, sets the new one, ends every session of the
// user and starts a new one for this browser, whose id it returns.
// Errors: invalid_request (fields current_password, new_password, confirm_password).
func (s *Service) ChangePassword(ctx context.Context, userID string, in ChangePasswordInput, cl Client) (string, error) {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return "", err
	}
	var v Validation
	if in.Current == "" {
		v.Add("current_password", "Enter your current password.")
	} else if !checkPassword(u.PasswordHash, in.Current) {
		v.Add("current_password", "This is not your current password.")
	}
	validatePassword(&v, "new_password", in.New, u.Email)
	if in.New != "" && in.New == in.Current {
		v.Add("new_password", "Choose a password different from the current one.")
	}
	if in.Confirm != in.New {
		v.Add("confirm_password", "The two new passwords differ.")
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	hash, err := s.hashPassword(in.New)
	if err != nil {
		return "", err
	}
	now := s.Now()
	sid, sess := newSession(u.ID, cl, now)
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.SetPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		if err := tx.RevokeUserSessions(ctx, u.ID, now); err != nil {
			return err
		}
		return tx.CreateSession(ctx, sess)
	})
	if err != nil {
		return "", err
	}
	return sid, nil
}

// PruneAuth deletes sessions that can no longer come back to life and sign-up links that
// expired a day ago; the worker's periodic sweep calls it so neither table grows forever.
func (s *Service) PruneAuth(ctx context.Context) (int64, error) {
	now := s.Now()
	n, err := s.store.PruneSessions(ctx, now.Add(-SessionLifetime), now.Add(-SessionIdle))
	if err != nil {
		return n, err
	}
	m, err := s.store.PruneSignupRequests(ctx, now.Add(-24*time.Hour))
	return n + m, err
}
