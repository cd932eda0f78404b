package ledgertest

import (
	"context"
	"testing"

	"creditline/billing"
	"creditline/store"
)

// otherInstance is a second service on the same database with no listener between them, so
// its changes reach e.svc's snapshots only through the checks on the row: the paths a missed or
// late notification would take.
func otherInstance(e *env) *billing.Service {
	return billing.NewService(store.New(e.db), billing.Options{Now: e.clock.Now})
}

func video(acc string) billing.UsageInput {
	return billing.UsageInput{AccountID: acc, Action: "video.generate",
		Quantities: map[string]billing.Quantity{"seconds": billing.Count(10)}, IdempotencyKey: key()}
}

// TestDebitOnAStalePlanIsPricedAgain: the snapshot says Free (multiplier 1), the row says Pro
// (0.9); the debit is priced on the row, once.
func TestDebitOnAStalePlanIsPricedAgain(t *testing.T) {
	e := newMoneyEnv(t)
	ctx := context.Background()
	if err := e.svc.SeedCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.LoadLiveBook(ctx); err != nil {
		t.Fatal(err)
	}
	a, err := e.svc.CreateAccount(ctx, billing.CreateAccountInput{Name: "stale plan"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Grant(ctx, billing.GrantInput{AccountID: a.ID, Source: "purchase", Amount: 1000 * billing.Credit, Reason: "funds"}); err != nil {
		t.Fatal(err)
	}
	free, err := e.svc.ChargeUsage(ctx, video(a.ID)) // caches the snapshot on Free
	if err != nil {
		t.Fatal(err)
	}
	if err := otherInstance(e).SetPlan(ctx, a.ID, "pro"); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.svc.AccountSnapshot(ctx, a.ID); s.PlanKey != "free" {
		t.Fatalf("the snapshot already says %q: the test needs a stale one", s.PlanKey)
	}
	pro, err := e.svc.ChargeUsage(ctx, video(a.ID))
	if err != nil {
		t.Fatal(err)
	}
	want := free.Event.Credits * 9 / 10
	if pro.Event.Credits != want {
		t.Fatalf("charged %s on Pro after %s on Free: want %s (priced on the row's plan)", pro.Event.Credits, free.Event.Credits, want)
	}
	if free.Balance-pro.Balance != want {
		t.Fatalf("balance moved by %s: want %s, once", free.Balance-pro.Balance, want)
	}
}

// TestRefusalFromAStaleSnapshotIsConfirmedOnTheRow: the snapshot says paused, the row says
// active (resumed on another instance); the usage is charged, not refused.
func TestRefusalFromAStaleSnapshotIsConfirmedOnTheRow(t *testing.T) {
	e := newMoneyEnv(t)
	ctx := context.Background()
	if err := e.svc.SeedCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.LoadLiveBook(ctx); err != nil {
		t.Fatal(err)
	}
	a, err := e.svc.CreateAccount(ctx, billing.CreateAccountInput{Name: "stale pause"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Grant(ctx, billing.GrantInput{AccountID: a.ID, Source: "purchase", Amount: 1000 * billing.Credit, Reason: "funds"}); err != nil {
		t.Fatal(err)
	}
	paused, active := billing.StatusPaused, billing.StatusActive
	op := billing.Op{Actor: billing.Actor{Kind: billing.ActorSystem}, Reason: "test"}
	if _, err := e.svc.UpdateAccount(ctx, billing.AccountUpdate{AccountID: a.ID, Status: &paused, Op: op}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ChargeUsage(ctx, video(a.ID)); billing.ErrorCode(err) != billing.EAccountPaused {
		t.Fatalf("paused: %v", err)
	}
	if _, err := otherInstance(e).UpdateAccount(ctx, billing.AccountUpdate{AccountID: a.ID, Status: &active, Op: op}); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.svc.AccountSnapshot(ctx, a.ID); s.Status != billing.StatusPaused {
		t.Fatalf("the snapshot already says %q: the test needs a stale one", s.Status)
	}
	if _, err := e.svc.ChargeUsage(ctx, video(a.ID)); err != nil {
		t.Fatalf("resumed on another instance, refused here: %v", err)
	}
}

// TestKeysWorkAfterCachesAreDropped: a lost listener connection drops every cache before any
// key was read (serve does it once the listener subscribes); keys must still authenticate.
func TestKeysWorkAfterCachesAreDropped(t *testing.T) {
	e := newMoneyEnv(t)
	ctx := context.Background()
	_, secret, err := e.svc.CreatePlatformKey(ctx, "dropped caches", billing.Op{Actor: billing.Actor{Kind: billing.ActorSystem}, Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	svc := otherInstance(e)
	if err := svc.ApplyCacheEvent(ctx, billing.CacheEvent{Kind: billing.EventsLost}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateKey(ctx, secret); err != nil {
		t.Fatal(err)
	}
}
