package web_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"creditline/billing"
	"creditline/web/webtest"
)

// movableClock is the service's clock, moved by the test.
type movableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movableClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *movableClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// TestSubscribedSpendPeriodResetsOnItsBillingDay: an account subscribed on the 17th counts its
// spend from the 17th to the 17th: the 1st of the month resets nothing, the 17th does, the hard
// limit decides on that spend, and the limits page and the API's resets_at say the 17th. An
// account without a subscription keeps calendar months.
func TestSubscribedSpendPeriodResetsOnItsBillingDay(t *testing.T) {
	ctx := context.Background()
	clock := &movableClock{t: time.Date(2026, 11, 17, 9, 30, 0, 0, time.UTC)}
	env := webtest.Start(t, func(o *billing.Options) { o.Now = clock.Now })
	c, u, acc := limitsCustomer(t, env, "period17@example.com")
	_, _, free := limitsCustomer(t, env, "calendar@example.com")
	start, err := env.Svc.StartCheckout(ctx, u.ID, billing.KindPlan, "basic")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Svc.CompleteTestCheckout(ctx, u.ID, start.SessionID); err != nil {
		t.Fatal(err)
	}
	limit := billing.MustCredits("12")
	if err := env.Svc.SetSpendLimit(ctx, acc.ID, &limit, billing.SpendHard, nil); err != nil {
		t.Fatal(err)
	}
	api := env.PlatformKey(t)
	n := 0
	debit := func(id, credits string) error {
		n++
		_, err := env.Svc.Debit(ctx, billing.DebitInput{AccountID: id, Amount: billing.MustCredits(credits),
			IdempotencyKey: fmt.Sprint("period-", n), Enforce: true})
		return err
	}
	period := func(id string) (spent, resets string) {
		t.Helper()
		r := api.Do("GET", "/api/v1/accounts/"+id+"/balance", nil)
		p, _ := r.Body["period"].(map[string]any)
		if r.Status != 200 || p == nil {
			t.Fatalf("balance of %s: %d %v", id, r.Status, r.Body)
		}
		return fmt.Sprint(p["spent"]), fmt.Sprint(p["resets_at"])
	}
	want := func(when, id, wantSpent, wantResets string) {
		t.Helper()
		if spent, resets := period(id); spent != wantSpent || resets != wantResets {
			t.Errorf("%s: spent %s resets_at %s, want %s and %s", when, spent, resets, wantSpent, wantResets)
		}
	}

	clock.Set(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
	if err := debit(acc.ID, "10"); err != nil {
		t.Fatal(err)
	}
	if err := debit(free.ID, "4"); err != nil {
		t.Fatal(err)
	}
	want("20 November", acc.ID, "10", "2026-12-17T09:30:00Z")
	want("20 November, no subscription", free.ID, "4", "2026-12-01T00:00:00Z")
	if got := c.Get("/limits").Doc.Find(`[data-testid="limits-resets"]`).Text(); got != "December 17, 2026" {
		t.Errorf("limits page resets on %q, want December 17, 2026", got)
	}

	// The calendar month turns: the subscribed account's spend stands, and the hard limit counts it.
	clock.Set(time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC))
	want("2 December", acc.ID, "10", "2026-12-17T09:30:00Z")
	want("2 December, no subscription", free.ID, "0", "2027-01-01T00:00:00Z")
	if err := debit(acc.ID, "5"); billing.ErrorCode(err) != "spend_limit_reached" {
		t.Fatalf("debit past the limit on 2 December: %v, want spend_limit_reached", err)
	}

	// Its billing day: the spend resets (no renewal event needed), the limit has room again.
	clock.Set(time.Date(2026, 12, 17, 9, 31, 0, 0, time.UTC))
	want("17 December", acc.ID, "0", "2027-01-17T09:30:00Z")
	if err := debit(acc.ID, "5"); err != nil {
		t.Fatalf("debit on 17 December: %v", err)
	}
	want("17 December after a debit", acc.ID, "5", "2027-01-17T09:30:00Z")
	c.Login("period17@example.com", "long-enough-pw") // a month on, the session has lapsed
	if got := c.Get("/limits").Doc.Find(`[data-testid="limits-resets"]`).Text(); got != "January 17, 2027" {
		t.Errorf("limits page resets on %q, want January 17, 2027", got)
	}
}
