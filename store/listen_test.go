package store_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"creditline/billing"
	"creditline/store"
	"creditline/store/pgtest"
)

// TestListenAnnouncesSettingsChanges: a change to an account's settings, to a plan or a
// publication reaches a listener with what it needs; a ledger write (what every debit does)
// and a draft announce nothing; a lost connection is announced as lost, then listening resumes.
func TestListenAnnouncesSettingsChanges(t *testing.T) {
	db := pgtest.Fresh(t) // its own database: no other test's notifications
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var name string
	if err := db.Get(&name, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(pgtest.URL(t))
	u.Path = "/" + name
	events := make(chan billing.CacheEvent, 16)
	if err := store.Listen(ctx, u.String(), func(ev billing.CacheEvent) { events <- ev }); err != nil {
		t.Fatal(err)
	}
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	next := func(what string) billing.CacheEvent {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(10 * time.Second):
			t.Fatalf("no event after %s", what)
		}
		return billing.CacheEvent{}
	}
	for _, want := range []string{billing.EventsLost, billing.EventsLive} { // on subscribing
		if ev := next("subscribing"); ev.Kind != want {
			t.Fatalf("on subscribing: %+v, want %s", ev, want)
		}
	}
	exec(`INSERT INTO accounts (id, name) VALUES ('acc_listen', 'L')`)
	exec(`UPDATE accounts SET balance = balance + 1, period_spent = period_spent + 1 WHERE id = 'acc_listen'`) // a ledger write
	exec(`UPDATE accounts SET status = 'active', plan_key = plan_key WHERE id = 'acc_listen'`)                 // nothing changes
	exec(`UPDATE accounts SET status = 'paused' WHERE id = 'acc_listen'`)
	var ver int64
	if err := db.Get(&ver, `SELECT version FROM accounts WHERE id = 'acc_listen'`); err != nil {
		t.Fatal(err)
	}
	if ev := next("a pause"); ev != (billing.CacheEvent{Kind: billing.EventAccount, AccountID: "acc_listen", Version: ver}) {
		t.Fatalf("first event %+v, want the pause at version %d (a ledger write or a no-op update announced something)", ev, ver)
	}
	exec(`INSERT INTO price_book_drafts (created_at, updated_at, document) VALUES (now(), now(), '{"version": 7, "status": "draft"}')`)
	exec(`UPDATE plans SET sort_order = sort_order + 1`)
	if ev := next("a plan edit"); ev.Kind != billing.EventPlans {
		t.Fatalf("after a draft and a plan edit: %+v, want the plan edit first", ev)
	}
	exec(`INSERT INTO price_books (version, status, effective_at, published_at, document)
		VALUES (8, 'published', now(), now(), '{"version": 8, "status": "published"}')`)
	if ev := next("a publication"); ev.Kind != billing.EventPriceBooks {
		t.Fatalf("after a publication: %+v", ev)
	}

	exec(`INSERT INTO api_keys (id, kind, name, prefix, hash, created_by, created_at) VALUES ('key_listen', 'platform', 'L', 'sk_listen', 'h-listen', 'test', now())`)
	exec(`UPDATE api_keys SET last_used_at = now() WHERE id = 'key_listen'`) // every use touches it: nothing to say
	exec(`UPDATE api_keys SET revoked_at = now() WHERE id = 'key_listen'`)
	if ev := next("a revocation"); ev != (billing.CacheEvent{Kind: billing.EventAPIKeyRevoked, KeyID: "key_listen"}) {
		t.Fatalf("after a revocation: %+v", ev)
	}

	exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`)
	if ev := next("the listener's connection was killed"); ev.Kind != billing.EventsLost {
		t.Fatalf("after losing the connection: %+v, want %s", ev, billing.EventsLost)
	}
	deadline := time.Now().Add(10 * time.Second)
	live := false
	for {
		exec(`UPDATE accounts SET status = CASE status WHEN 'paused' THEN 'active' ELSE 'paused' END WHERE id = 'acc_listen'`)
		select {
		case ev := <-events:
			live = live || ev.Kind == billing.EventsLive
			if ev.Kind == billing.EventAccount {
				if !live {
					t.Fatal("subscribed again without announcing EventsLive first")
				}
				return // subscribed again
			}
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no account event 10 s after the reconnection")
		}
	}
}

// TestCatalogChangesReachAnotherService: a price book published and a plan edited through
// one service reach another on the same database, once it hears the notification (before
// migration 0014 the other kept its live book until restarted, and its plans for 30 s).
func TestCatalogChangesReachAnotherService(t *testing.T) {
	db := pgtest.Fresh(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var name string
	if err := db.Get(&name, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(pgtest.URL(t))
	u.Path = "/" + name
	a, b := billing.NewService(store.New(db), billing.Options{}), billing.NewService(store.New(db), billing.Options{})
	if err := a.SeedCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*billing.Service{a, b} {
		if err := s.LoadLiveBook(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Listen(ctx, u.String(), func(ev billing.CacheEvent) { _ = b.ApplyCacheEvent(ctx, ev) }); err != nil {
		t.Fatal(err)
	}
	basic, err := b.Plan(ctx, "basic")
	if err != nil {
		t.Fatal(err)
	}
	if e, err := b.Entitlements(ctx, billing.Account{PlanKey: "basic"}); err != nil || e.RateLimitPerMin != basic.Entitlements.RateLimitPerMin {
		t.Fatalf("basic on B: %+v %v", e, err) // cached on B from here
	}
	draft, err := a.CreatePriceDraft(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := a.PublishPriceDraft(ctx, draft.ID, billing.PublishOptions{}, billing.Op{Actor: billing.UserActor("test"), Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	basic.Entitlements.RateLimitPerMin = 777
	if err := a.SavePlan(ctx, basic); err != nil {
		t.Fatal(err)
	}
	eventually := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not on B 5 s after it was made on A", what)
			}
		}
	}
	eventually("the published price book", func() bool {
		cur, err := b.Live().Current(time.Now())
		return err == nil && cur.Version() == pub.Version()
	})
	eventually("the plan edit", func() bool {
		e, err := b.Entitlements(ctx, billing.Account{PlanKey: "basic"})
		return err == nil && e.RateLimitPerMin == 777
	})
}
