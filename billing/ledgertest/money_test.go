package ledgertest

import (
	"context"
	"testing"
	"time"

	"creditline/billing"
)

// TestIdempotencyKeysAreOpaque: " k" is not a replay of "k" (they were trimmed to one key).
func TestIdempotencyKeysAreOpaque(t *testing.T) {
	e := newEnv(t)
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
