package billing

import (
	"math"
	"testing"
	"time"
)

// TestCreditInputsAreBounded: every credit input refuses more than 10^12 credits with a field
// error, and accepts exactly 10^12.
func TestCreditInputsAreBounded(t *testing.T) {
	over := MaxCredits + 1
	for _, amt := range []Credits{over, math.MaxInt64, MaxBalance} {
		g := GrantInput{AccountID: "acc_x", Source: "promo", Amount: amt}
		if err := g.validate(time.Now()); !hasField(err, "credits") {
			t.Errorf("grant of %s: %v", amt, err)
		}
		d := DebitInput{AccountID: "acc_x", Amount: amt, IdempotencyKey: "k"}
		if err := d.normalize(); !hasField(err, "credits") {
			t.Errorf("debit of %s: %v", amt, err)
		}
		r := ReserveInput{AccountID: "acc_x", Amount: amt, TTL: time.Minute, IdempotencyKey: "k"}
		if err := r.normalize(); !hasField(err, "credits") {
			t.Errorf("hold of %s: %v", amt, err)
		}
		for _, f := range []string{"overdraft_limit", "spend_limit"} {
			if err := CheckCreditInput(f, amt, false); !hasField(err, f) {
				t.Errorf("%s %s: %v", f, amt, err)
			}
		}
		p := SeedPacks()[0]
		p.Credits = amt
		if err := p.Validate(); !hasField(err, "credits") {
			t.Errorf("pack of %s: %v", amt, err)
		}
		pl := SeedPlans()[0]
		pl.CreditsPerPeriod = amt
		if err := pl.Validate(); !hasField(err, "credits_per_period") {
			t.Errorf("plan of %s: %v", amt, err)
		}
	}
	p := SeedPacks()[0]
	p.Credits, p.BonusCredits = MaxCredits, 1
	if err := p.Validate(); !hasField(err, "bonus_credits") {
		t.Errorf("pack credits + bonus past the bound: %v", err)
	}
	p.Prices = Prices{"usd": MaxMoney + 1}
	p.BonusCredits = 0
	if err := p.Validate(); !hasField(err, "prices.usd") {
		t.Errorf("pack price past the bound: %v", err)
	}
	if err := CheckCreditInput("x", -1, false); !hasField(err, "x") {
		t.Errorf("negative accepted: %v", err)
	}
	g := GrantInput{AccountID: "acc_x", Source: "promo", Amount: MaxCredits}
	d := DebitInput{AccountID: "acc_x", Amount: MaxCredits, IdempotencyKey: "k"}
	r := ReserveInput{AccountID: "acc_x", Amount: MaxCredits, TTL: time.Minute, IdempotencyKey: "k"}
	if g.validate(time.Now()) != nil || d.normalize() != nil || r.normalize() != nil || CheckCreditInput("x", MaxCredits, true) != nil {
		t.Error("exactly 10^12 credits refused")
	}
}

func hasField(err error, field string) bool {
	e, ok := err.(*Error)
	return ok && e.Code == EInvalid && e.Fields[field] != ""
}

// TestProrataDoesNotOverflow: a refund of a large grant bought for a large amount was computed
// as amount × refunded in int64, which wraps past 9.2 × 10^18.
func TestProrataDoesNotOverflow(t *testing.T) {
	cases := []struct {
		amount         Credits
		refunded, paid int64
		want           Credits
	}{
		{MaxCredits, MaxMoney / 2, MaxMoney, MaxCredits / 2},
		{MaxCredits, MaxMoney - 1, MaxMoney, MaxCredits - MaxCredits/Credits(MaxMoney)},
		{1000 * Credit, 250, 1000, 250 * Credit},
		{3, 1, 2, 2}, // half up
	}
	for _, c := range cases {
		if got := prorata(c.amount, c.refunded, c.paid); got != c.want {
			t.Errorf("prorata(%d, %d, %d) = %d, want %d", c.amount, c.refunded, c.paid, got, c.want)
		}
	}
}
