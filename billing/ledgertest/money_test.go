package ledgertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"creditline/billing"
)

// TestIdempotencyKeysAreOpaque: " k" is not a replay of "k" (they were trimmed to one key).
func TestIdempotencyKeysAreOpaque(t *testing.T) {
	e := newMoneyEnv(t)
	ctx := context.Background()
	acc := e.account()
	e.grant(acc, "100")
	first, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: c("1"), IdempotencyKey: "k", Reason: "t"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{" k", "k ", "K"} {
		out, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: c("1"), IdempotencyKey: k, Reason: "t"})
		if err != nil || out.Replayed || out.Debit.ID == first.Debit.ID || out.Debit.IdempotencyKey != k {
			t.Errorf("key %q: %+v %v, want a new debit under exactly that key", k, out.Debit, err)
		}
	}
	if b := e.balance(acc); b.Balance != c("96") {
		t.Errorf("balance %s, want 96", b.Balance)
	}
	h1, err := e.svc.Reserve(ctx, billing.ReserveInput{AccountID: acc, Amount: c("1"), TTL: time.Minute, IdempotencyKey: "h"})
	if err != nil {
		t.Fatal(err)
	}
	h2, err := e.svc.Reserve(ctx, billing.ReserveInput{AccountID: acc, Amount: c("1"), TTL: time.Minute, IdempotencyKey: "h\u00a0"})
	if err != nil || h2.Replayed || h2.Hold.ID == h1.Hold.ID {
		t.Errorf("reservation key with a trailing no-break space replayed %+v: %v", h2, err)
	}
	for _, k := range []string{"", "a\x00b", "bad\xff", "line\n"} {
		_, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: c("1"), IdempotencyKey: k})
		if ErrorCode(err) != billing.EInvalid {
			t.Errorf("debit key %q: %v", k, err)
		}
		_, err = e.svc.Grant(ctx, billing.GrantInput{AccountID: acc, Source: "promo", Amount: c("1"), IdempotencyKey: k + "x"})
		if k != "" && ErrorCode(err) != billing.EInvalid {
			t.Errorf("grant key %q: %v", k+"x", err)
		}
	}
}

// ErrorCode is billing.ErrorCode, short.
func ErrorCode(err error) string { return billing.ErrorCode(err) }

// newMoneyEnv runs a day ahead: the model tests leave grants effective up to hours after the
// wall clock, which verify (run after each test, over the whole database) would count as pending.
func newMoneyEnv(t *testing.T) *env {
	e := newEnv(t)
	e.clock.Advance(24 * time.Hour)
	return e
}

// TestMissingQuantityIsRefusedEverywhere: usage, batch events, estimates and reservations go
// through one pricing path, which refuses a quantity the rate needs instead of charging 0.
func TestMissingQuantityIsRefusedEverywhere(t *testing.T) {
	e := newMoneyEnv(t)
	ctx := context.Background()
	if err := e.svc.SeedCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	acc := e.account()
	e.grant(acc, "100")
	want := "required by video.generate"
	check := func(what string, err error) {
		t.Helper()
		var be *billing.Error
		if !errors.As(err, &be) || be.Code != billing.EInvalid || be.Fields["quantities.seconds"] != want {
			t.Errorf("%s: %v, want invalid_request quantities.seconds %q", what, err, want)
		}
	}
	_, err := e.svc.ChargeUsage(ctx, billing.UsageInput{AccountID: acc, Action: "video.generate", Quantities: map[string]billing.Quantity{}, IdempotencyKey: key()})
	check("usage", err)
	rs, err := e.svc.ChargeUsageBatch(ctx, []billing.UsageInput{{AccountID: acc, Action: "video.generate", IdempotencyKey: key()}})
	if err != nil {
		t.Fatal(err)
	}
	check("batch event", rs[0].Err)
	_, err = e.svc.Estimate(ctx, acc, "video.generate", nil, nil, false)
	check("estimate", err)
	_, _, err = e.svc.ReserveAction(ctx, billing.ReserveActionInput{AccountID: acc, Action: "video.generate", TTL: time.Minute, IdempotencyKey: key()})
	check("reservation", err)
	if b := e.balance(acc); b.Balance != c("100") {
		t.Errorf("balance %s, want 100: nothing charged", b.Balance)
	}
	// With the quantity, the same usage is charged.
	res, err := e.svc.ChargeUsage(ctx, billing.UsageInput{AccountID: acc, Action: "video.generate", Quantities: map[string]billing.Quantity{"seconds": billing.Count(3)}, IdempotencyKey: key()})
	if err != nil || res.Event.Credits != c("6") {
		t.Errorf("usage with seconds: %+v %v", res.Event, err)
	}
}

// TestBalanceBoundRefusesAGrant: an account holding MaxBalance refuses one more millicredit
// (a grant used to wrap the balance negative near int64), with a field error and nothing written.
func TestBalanceBoundRefusesAGrant(t *testing.T) {
	e := newMoneyEnv(t)
	ctx := context.Background()
	acc := e.account()
	// 1,000 full grants of 10^12 credits, written as the ledger would write them (fast).
	if _, err := e.db.Exec(`WITH g AS (
			INSERT INTO grants (id, account_id, source, amount, remaining, priority, effective_at, actor, created_at)
			SELECT 'grt_bound_' || $1 || '_' || i, $1, 'adjustment', $2, $2, 30, $3, 'test', $3 FROM generate_series(1, 1000) i
			RETURNING id)
		INSERT INTO ledger_entries (account_id, grant_id, kind, amount, balance_after, actor, created_at)
			SELECT $1, 'grt_bound_' || $1 || '_' || i, 'grant', $2, $2 * i, 'test', $3 FROM generate_series(1, 1000) i`,
		acc, int64(billing.MaxCredits), e.clock.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`UPDATE accounts SET balance = $2 WHERE id = $1`, acc, int64(billing.MaxBalance)); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Grant(ctx, billing.GrantInput{AccountID: acc, Source: "promo", Amount: billing.Milli, Reason: "one more"})
	var be *billing.Error
	if !errors.As(err, &be) || be.Code != billing.EInvalid || be.Fields["credits"] == "" {
		t.Fatalf("grant past the balance bound: %v", err)
	}
	if b := e.balance(acc); b.Balance != billing.MaxBalance {
		t.Fatalf("balance %s, want %s", b.Balance, billing.MaxBalance)
	}
	// Spend some, and the same grant fits again.
	if _, err := e.svc.Debit(ctx, billing.DebitInput{AccountID: acc, Amount: billing.MaxCredits, IdempotencyKey: key()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Grant(ctx, billing.GrantInput{AccountID: acc, Source: "promo", Amount: billing.MaxCredits, Reason: "refill"}); err != nil {
		t.Fatal(err)
	}
	// A grant above 10^12 credits is refused however empty the account.
	other := e.account()
	_, err = e.svc.Grant(ctx, billing.GrantInput{AccountID: other, Source: "promo", Amount: 9_223_372_036_854_775_807, Reason: "huge"})
	if !errors.As(err, &be) || be.Fields["credits"] != "Must be at most 1,000,000,000,000 credits." {
		t.Fatalf("huge grant: %v", err)
	}
}

// TestExternalIDIsOpaque: an external id with spaces around it is refused, not trimmed into
// another customer's id.
func TestExternalIDIsOpaque(t *testing.T) {
	e := newMoneyEnv(t)
	ctx := context.Background()
	ext := key()
	if _, err := e.svc.CreateAccount(ctx, billing.CreateAccountInput{Name: "a", ExternalID: ext}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{" " + ext, ext + " ", ext + "\x00", "bad\xff"} {
		_, err := e.svc.CreateAccount(ctx, billing.CreateAccountInput{Name: "b", ExternalID: bad})
		var be *billing.Error
		if !errors.As(err, &be) || be.Code != billing.EInvalid || be.Fields["external_id"] == "" {
			t.Errorf("external id %q: %v", bad, err)
		}
	}
}
