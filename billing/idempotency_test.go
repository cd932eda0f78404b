package billing

import (
	"strings"
	"testing"
	"time"
)

func TestIdempotencyKeyRule(t *testing.T) {
	ok := []string{"k", " k", "k ", "req_8f14e45f", "ключ-1", "emoji-🙂", strings.Repeat("k", 255), strings.Repeat("é", 127)}
	for _, k := range ok {
		if err := CheckIdempotencyKey(k); err != nil {
			t.Errorf("%q refused: %v", k, err)
		}
	}
	bad := map[string]string{
		"":                       "Required",
		strings.Repeat("k", 256): "255 bytes",
		strings.Repeat("é", 128): "255 bytes", // 256 bytes in 128 characters
		"a\x00b":                 "control",
		"a\tb":                   "control",
		"k\n":                    "control",
		"k\x7f":                  "control",
		"k\u0085":                "control", // C1 next line
		"k\xff":                  "UTF-8",
		"\xc3":                   "UTF-8", // a cut multi-byte sequence
		"k\xed\xa0\x80":          "UTF-8", // a surrogate
	}
	for k, want := range bad {
		err := CheckIdempotencyKey(k)
		if ErrorCode(err) != EInvalid || !strings.Contains(err.(*Error).Fields["idempotency_key"], want) {
			t.Errorf("%q: %v, want invalid_request on idempotency_key saying %q", k, err, want)
		}
	}
}

// TestEveryKeyTakesTheRule: debits (and so usage, batch events and commits), reservations and
// grants refuse what the rule refuses, and keep the key byte for byte.
func TestEveryKeyTakesTheRule(t *testing.T) {
	for _, k := range []string{"", "a\x00", "k\xff"} {
		d := DebitInput{AccountID: "acc_x", Amount: 1, IdempotencyKey: k}
		if err := d.normalize(); ErrorCode(err) != EInvalid {
			t.Errorf("debit key %q: %v", k, err)
		}
		r := ReserveInput{AccountID: "acc_x", Amount: 1, TTL: MaxHoldTTL, IdempotencyKey: k}
		if err := r.normalize(); ErrorCode(err) != EInvalid {
			t.Errorf("reservation key %q: %v", k, err)
		}
		g := GrantInput{AccountID: "acc_x", Source: "promo", Amount: 1, IdempotencyKey: k}
		if k != "" { // a grant the system makes may have no key
			if err := g.validate(time.Now()); ErrorCode(err) != EInvalid {
				t.Errorf("grant key %q: %v", k, err)
			}
		}
	}
	d := DebitInput{AccountID: "acc_x", Amount: 1, IdempotencyKey: " k "}
	if err := d.normalize(); err != nil || d.IdempotencyKey != " k " {
		t.Errorf("key %q after normalize, %v: keys are opaque", d.IdempotencyKey, err)
	}
	r := ReserveInput{AccountID: "acc_x", Amount: 1, TTL: MaxHoldTTL, IdempotencyKey: "\u00a0k"}
	if err := r.normalize(); err != nil || r.IdempotencyKey != "\u00a0k" {
		t.Errorf("key %q after normalize, %v: keys are opaque", r.IdempotencyKey, err)
	}
}
