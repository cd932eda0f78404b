package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"creditline/billing"
	"creditline/store"
	"creditline/store/pgtest"
)

type sessClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *sessClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *sessClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func sessionEnv(t *testing.T) (*billing.Service, *store.Store, *sessClock, billing.User) {
	t.Helper()
	db := pgtest.DB(t)
	st := store.New(db)
	clk := &sessClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	svc := billing.NewService(st, billing.Options{Now: clk.Now, PasswordCost: 4})
	u, _, err := svc.SignUp(context.Background(), billing.SignUpInput{Name: "Sam", Email: "sam-" + billing.NewID("t") + "@example.com", Password: "long-enough-pw"})
	if err != nil {
		t.Fatal(err)
	}
	return svc, st, clk, u
}

func alive(t *testing.T, svc *billing.Service, sid string) bool {
	t.Helper()
	_, err := svc.SessionUser(context.Background(), sid)
	if err != nil && billing.ErrorCode(err) != billing.EUnauthenticated {
		t.Fatal(err)
	}
	return err == nil
}

func TestSessionIdleLimitAndTouchOncePerMinute(t *testing.T) {
	ctx := context.Background()
	svc, st, clk, u := sessionEnv(t)
	sid, err := svc.StartSession(ctx, u.ID, billing.Client{IP: "192.0.2.1", UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	seen := func() time.Time {
		s, _, err := st.SessionByHash(ctx, billing.HashToken(sid))
		if err != nil {
			t.Fatal(err)
		}
		return s.LastSeenAt
	}
	start := seen()
	clk.Advance(30 * time.Second)
	if !alive(t, svc, sid) || !seen().Equal(start) {
		t.Fatal("a request within the minute must not write last_seen_at")
	}
	clk.Advance(31 * time.Second)
	if !alive(t, svc, sid) || !seen().Equal(clk.Now()) {
		t.Fatalf("last_seen_at %v, want %v", seen(), clk.Now())
	}
	// Active within the idle limit keeps it alive; a longer silence ends it.
	clk.Advance(billing.SessionIdle - time.Minute)
	if !alive(t, svc, sid) {
		t.Fatal("session died before the idle limit")
	}
	clk.Advance(billing.SessionIdle)
	if alive(t, svc, sid) {
		t.Fatal("session outlived the idle limit")
	}
}

func TestSessionAbsoluteLifetime(t *testing.T) {
	ctx := context.Background()
	svc, _, clk, u := sessionEnv(t)
	sid, err := svc.StartSession(ctx, u.ID, billing.Client{})
	if err != nil {
		t.Fatal(err)
	}
	// Daily use never reaches the idle limit, but the session still ends at its lifetime.
	for d := 1; d < 30; d++ {
		clk.Advance(24 * time.Hour)
		if !alive(t, svc, sid) {
			t.Fatalf("session died on day %d", d)
		}
	}
	clk.Advance(24 * time.Hour)
	if alive(t, svc, sid) {
		t.Fatal("session outlived its absolute lifetime")
	}
}

func TestEndSessionEndsOnlyThatSession(t *testing.T) {
	ctx := context.Background()
	svc, _, _, u := sessionEnv(t)
	a, _ := svc.StartSession(ctx, u.ID, billing.Client{})
	b, _ := svc.StartSession(ctx, u.ID, billing.Client{})
	if err := svc.EndSession(ctx, a); err != nil {
		t.Fatal(err)
	}
	if alive(t, svc, a) || !alive(t, svc, b) {
		t.Fatal("ending one session must end exactly that one")
	}
	if alive(t, svc, "not-a-session") || alive(t, svc, "") {
		t.Fatal("unknown session ids are dead")
	}
}

func TestSessionOfDeletedUserIsDead(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	st := store.New(db)
	svc := billing.NewService(st, billing.Options{PasswordCost: 4})
	u, _, err := svc.SignUp(ctx, billing.SignUpInput{Name: "Gone", Email: "gone@example.com", Password: "long-enough-pw"})
	if err != nil {
		t.Fatal(err)
	}
	sid, _ := svc.StartSession(ctx, u.ID, billing.Client{})
	if !alive(t, svc, sid) {
		t.Fatal("new session dead")
	}
	if _, err := db.Exec(`DELETE FROM memberships WHERE user_id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM users WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if alive(t, svc, sid) {
		t.Fatal("a deleted user's session is alive")
	}
}

func TestChangePasswordEndsOtherSessionsAndChecksFields(t *testing.T) {
	ctx := context.Background()
	svc, _, _, u := sessionEnv(t)
	this, _ := svc.StartSession(ctx, u.ID, billing.Client{})
	other, _ := svc.StartSession(ctx, u.ID, billing.Client{})
	_, err := svc.ChangePassword(ctx, u.ID, billing.ChangePasswordInput{Current: "wrong-password", New: "password123", Confirm: "other"}, billing.Client{})
	e, ok := err.(*billing.Error)
	if !ok || e.Fields["current_password"] == "" || e.Fields["new_password"] == "" || e.Fields["confirm_password"] == "" {
		t.Fatalf("want three field errors, got %v", err)
	}
	if !alive(t, svc, other) {
		t.Fatal("a refused change ended sessions")
	}
	fresh, err := svc.ChangePassword(ctx, u.ID, billing.ChangePasswordInput{Current: "long-enough-pw", New: "a brand new secret", Confirm: "a brand new secret"}, billing.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if alive(t, svc, this) || alive(t, svc, other) || !alive(t, svc, fresh) {
		t.Fatal("after a password change only the new session may live")
	}
	if _, err := svc.Authenticate(ctx, u.Email, "a brand new secret"); err != nil {
		t.Fatalf("new password refused: %v", err)
	}
	if _, err := svc.Authenticate(ctx, u.Email, "long-enough-pw"); err == nil {
		t.Fatal("old password still works")
	}
}

func TestEnsureAdminAppliesThePolicyAndEndsSessionsOnReset(t *testing.T) {
	ctx := context.Background()
	svc, _, _, u := sessionEnv(t)
	if _, err := svc.EnsureAdmin(ctx, "root@example.com", "administrator"); billing.ErrorCode(err) != billing.EInvalid {
		t.Fatalf("a common password was accepted for an admin: %v", err)
	}
	sid, _ := svc.StartSession(ctx, u.ID, billing.Client{})
	if _, err := svc.EnsureAdmin(ctx, u.Email, "a fresh admin secret"); err != nil {
		t.Fatal(err)
	}
	if alive(t, svc, sid) {
		t.Fatal("resetting a password through `portal admin create` left old sessions alive")
	}
}

func TestPruneAuthDropsOnlyDeadSessions(t *testing.T) {
	ctx := context.Background()
	svc, st, clk, u := sessionEnv(t)
	old, _ := svc.StartSession(ctx, u.ID, billing.Client{})
	revoked, _ := svc.StartSession(ctx, u.ID, billing.Client{})
	if err := svc.EndSession(ctx, revoked); err != nil {
		t.Fatal(err)
	}
	clk.Advance(billing.SessionIdle + time.Hour)
	live, _ := svc.StartSession(ctx, u.ID, billing.Client{})
	if _, err := svc.PruneAuth(ctx); err != nil {
		t.Fatal(err)
	}
	for sid, want := range map[string]bool{old: false, revoked: false, live: true} {
		_, _, err := st.SessionByHash(ctx, billing.HashToken(sid))
		if got := err == nil; got != want {
			t.Errorf("session kept=%v, want %v (%v)", got, want, err)
		}
	}
}
