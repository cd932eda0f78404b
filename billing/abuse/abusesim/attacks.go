package abusesim

import (
	"context"
	"fmt"
	"strings"
	"time"

	"creditline/billing"
	"creditline/billing/abuse"
)

// image is an image generation (a few credits).
func (s *Sim) image(acc string, at time.Time) billing.UsageInput {
	return billing.UsageInput{AccountID: acc, Action: "image.generate", Attributes: map[string]string{"model": "sdxl"},
		Quantities: map[string]billing.Quantity{"images": billing.Count(4)}, IdempotencyKey: fmt.Sprintf("sim-%d", s.r.Int64()), OccurredAt: &at}
}

// spendUntil charges images on acc until target credits are spent or a refusal stops it.
func (s *Sim) spendUntil(ctx context.Context, acc string, target billing.Credits, mk func(string, time.Time) billing.UsageInput) (billing.Credits, error) {
	var spent billing.Credits
	for spent < target {
		rs, err := s.Billing.ChargeUsageBatch(ctx, []billing.UsageInput{mk(acc, s.Clock.Now().Add(-time.Second))})
		if err != nil {
			return spent, err
		}
		if rs[0].Err != nil {
			return spent, rs[0].Err
		}
		spent += rs[0].Event.Credits
	}
	return spent, nil
}

// spikyAccount is the velocity attacker, a normal customer for two weeks.
func (s *Sim) spikyAccount(ctx context.Context) (string, error) {
	_, acc, err := s.signUp(ctx, "Spiky", "192.0.2.10")
	if err != nil {
		return "", err
	}
	_, err = s.grant(ctx, acc.ID, "purchase", 100_000*billing.Credit)
	return acc.ID, err
}

// velocity: an account with a steady baseline suddenly spends many times its usual hour.
func (s *Sim) velocity(ctx context.Context, acc string, th abuse.Thresholds) (Attack, error) {
	a := Attack{Name: "velocity spike", Kind: abuse.KindVelocity, Accounts: []string{acc}, Start: s.Clock.Now()}
	_, err := s.spendUntil(ctx, acc, 3*billing.Credits(th.VelocityFloorCredits)*billing.Credit, s.image)
	return a, err
}

// repeated: one account sends the same prompt over and over.
func (s *Sim) repeated(ctx context.Context, th abuse.Thresholds) (Attack, error) {
	a := Attack{Name: "repeated prompt", Kind: abuse.KindRepeatedPrompt}
	_, acc, err := s.signUp(ctx, "Looper", "198.18.0.20")
	if err != nil {
		return a, err
	}
	a.Accounts, a.Start = []string{acc.ID}, s.Clock.Now()
	if _, err := s.grant(ctx, acc.ID, "purchase", 10_000*billing.Credit); err != nil {
		return a, err
	}
	var ins []billing.UsageInput
	for i := range th.RepeatedPromptEvents + 20 {
		ins = append(ins, s.chat(acc.ID, a.Start.Add(-time.Duration(i%300)*time.Second), "same-prompt-1f3a"))
	}
	_, err = s.charge(ctx, ins)
	return a, err
}

// shared: scripted accounts send one prompt each.
func (s *Sim) shared(ctx context.Context, th abuse.Thresholds) (Attack, error) {
	a := Attack{Name: "prompt across accounts", Kind: abuse.KindSharedPrompt, Start: s.Clock.Now()}
	for i := range th.SharedPromptAccounts + 1 {
		_, acc, err := s.signUp(ctx, fmt.Sprintf("Script %d", i), fmt.Sprintf("198.51.%d.9", 100+i))
		if err != nil {
			return a, err
		}
		a.Accounts = append(a.Accounts, acc.ID)
		var ins []billing.UsageInput
		for range 3 {
			ins = append(ins, s.chat(acc.ID, a.Start, "scripted-prompt-77aa"))
		}
		if _, err := s.charge(ctx, ins); err != nil {
			return a, err
		}
	}
	return a, nil
}

// farm: trial farming, many sign-ups from one /24.
func (s *Sim) farm(ctx context.Context, th abuse.Thresholds) (Attack, error) {
	a := Attack{Name: "sign-up farm", Kind: abuse.KindSignupNetwork, Start: s.Clock.Now()}
	for i := range th.SignupsPerNetwork + 1 {
		_, acc, err := s.signUp(ctx, fmt.Sprintf("Farm %d", i), fmt.Sprintf("203.0.113.%d", 10+i))
		if err != nil {
			return a, err
		}
		a.Accounts = append(a.Accounts, acc.ID)
	}
	return a, nil
}

// drain: a bought pack is emptied within minutes (API account: no trial to draw first).
func (s *Sim) drain(ctx context.Context, th abuse.Thresholds) (Attack, error) {
	a := Attack{Name: "fresh grant drained", Kind: abuse.KindGrantDrained}
	acc, err := s.Billing.CreateAccount(ctx, billing.CreateAccountInput{Name: "Drainer", Actor: "sim"})
	if err != nil {
		return a, err
	}
	a.Accounts, a.Start = []string{acc.ID}, s.Clock.Now()
	if _, err := s.grant(ctx, acc.ID, "purchase", 2*billing.Credits(th.DrainedGrantMinCredits)*billing.Credit); err != nil {
		return a, err
	}
	s.Clock.Advance(5 * time.Minute)
	for _, mk := range []func(string, time.Time) billing.UsageInput{s.image, func(acc string, at time.Time) billing.UsageInput { return s.chat(acc, at, "") }} {
		if _, err := s.spendUntil(ctx, acc.ID, 1<<60, mk); billing.ErrorCode(err) != billing.EInsufficient {
			return a, fmt.Errorf("draining: %v", err)
		}
	}
	return a, nil
}

// hammer: a key far past its rate limit.
func (s *Sim) hammer(ctx context.Context, th abuse.Thresholds) (Attack, error) {
	a := Attack{Name: "rate-limit burst", Kind: abuse.KindRateLimitBurst}
	_, acc, err := s.signUp(ctx, "Hammer", "198.18.1.30")
	if err != nil {
		return a, err
	}
	a.Accounts, a.Start = []string{acc.ID}, s.Clock.Now()
	key, _, err := s.Billing.CreateAPIKey(ctx, acc.ID, "script", "sim")
	if err != nil {
		return a, err
	}
	refused := int64(0)
	for range 1000 {
		if _, err := s.Billing.AuthorizeAccount(ctx, key, acc.ID); billing.ErrorCode(err) == billing.ERateLimited {
			if refused++; refused >= th.RateLimitRefusals+10 {
				break
			}
		}
	}
	return a, nil
}

// refund: a pack is bought, spent beyond the trial, and the charge refunded.
func (s *Sim) refund(ctx context.Context) (Attack, error) {
	a := Attack{Name: "refund after consumption", Kind: abuse.KindRefundAfterUse}
	u, acc, err := s.signUp(ctx, "Refunder", "198.18.2.40")
	if err != nil {
		return a, err
	}
	a.Accounts, a.Start = []string{acc.ID}, s.Clock.Now()
	co, err := s.Billing.StartCheckout(ctx, u.ID, billing.KindPack, "starter")
	if err != nil {
		return a, err
	}
	if err := s.Billing.CompleteTestCheckout(ctx, u.ID, co.SessionID); err != nil {
		return a, err
	}
	rec, err := s.Billing.CheckoutForUser(ctx, u.ID, co.SessionID)
	if err != nil {
		return a, err
	}
	bal, err := s.Billing.Balance(ctx, acc.ID)
	if err != nil {
		return a, err
	}
	if _, err := s.spendUntil(ctx, acc.ID, bal.Available*3/4, s.image); err != nil {
		return a, err
	}
	sfx := co.SessionID[strings.IndexByte(co.SessionID, '_')+1:]
	_, err = s.Billing.ProcessPaymentEvent(ctx, billing.PaymentEvent{ID: "evt_sim_refund_" + sfx, Type: "charge.refunded",
		Created: s.Clock.Now(), Charge: &billing.ChargeEvent{ID: "ch_sim_" + sfx, PaymentIntentID: "pi_test_" + sfx,
			Amount: rec.Amount, AmountRefunded: rec.Amount, Currency: rec.Currency}})
	return a, err
}

// cardTesting: checkout after checkout, none paid.
func (s *Sim) cardTesting(ctx context.Context, th abuse.Thresholds) (Attack, error) {
	a := Attack{Name: "card testing", Kind: abuse.KindCardTesting}
	u, acc, err := s.signUp(ctx, "Carder", "198.18.3.50")
	if err != nil {
		return a, err
	}
	a.Accounts, a.Start = []string{acc.ID}, s.Clock.Now()
	for range th.CheckoutAttempts + 2 {
		if _, err := s.Billing.StartCheckout(ctx, u.ID, billing.KindPack, "starter"); err != nil {
			return a, err
		}
	}
	return a, nil
}

// declined plays a card declined on the account's Checkout page: Stripe sends one
// payment_intent.payment_failed per attempt.
func (s *Sim) declined(ctx context.Context, acc string) error {
	s.n++
	_, err := s.Billing.ProcessPaymentEvent(ctx, billing.PaymentEvent{ID: fmt.Sprintf("evt_sim_declined_%d_%d", s.n, s.r.Int64()),
		Type: "payment_intent.payment_failed", Created: s.Clock.Now(), PaymentIntent: &billing.PaymentIntentEvent{
			ID: fmt.Sprintf("pi_sim_%d", s.n), Status: "requires_payment_method", Amount: 10_00, Currency: "usd",
			Metadata: map[string]string{"kind": billing.KindPack, "account": acc}, FailureMessage: "Your card was declined."}})
	return err
}

// networkCarding: card testing from one network spread over several accounts, each of them
// below the per-account thresholds: a few unpaid checkouts and a declined card each.
func (s *Sim) networkCarding(ctx context.Context, th abuse.Thresholds) (Attack, error) {
	a := Attack{Name: "card testing from one network", Kind: abuse.KindCardTesting, Start: s.Clock.Now()}
	perAccount := min(th.CheckoutAttempts-1, 2)
	declines := min(th.FailedPayments-1, 1)
	n := max(2, th.NetworkCardAttempts/(perAccount+declines)+1)
	for i := range n {
		// Each signs up from a network of its own (no sign-up flag), then pays from the carder's.
		u, acc, err := s.signUp(ctx, fmt.Sprintf("Netcard %d", i), fmt.Sprintf("198.19.%d.5", 10+i))
		if err != nil {
			return a, err
		}
		a.Accounts = append(a.Accounts, acc.ID)
		ip := fmt.Sprintf("192.0.2.%d", 100+i)
		for range perAccount {
			if _, err := s.Billing.StartCheckoutFrom(ctx, u.ID, billing.KindPack, "starter", "usd", ip); err != nil {
				return a, err
			}
		}
		for range declines {
			if err := s.declined(ctx, acc.ID); err != nil {
				return a, err
			}
		}
	}
	return a, nil
}

// failedPayments: one account tries card after card on one Checkout page.
func (s *Sim) failedPayments(ctx context.Context, th abuse.Thresholds) (Attack, error) {
	a := Attack{Name: "failed payments", Kind: abuse.KindCardTesting}
	u, acc, err := s.signUp(ctx, "Decliner", "198.18.4.60")
	if err != nil {
		return a, err
	}
	a.Accounts, a.Start = []string{acc.ID}, s.Clock.Now()
	if _, err := s.Billing.StartCheckoutFrom(ctx, u.ID, billing.KindPack, "starter", "usd", "198.18.4.60"); err != nil {
		return a, err
	}
	for range th.FailedPayments {
		if err := s.declined(ctx, acc.ID); err != nil {
			return a, err
		}
	}
	return a, nil
}
