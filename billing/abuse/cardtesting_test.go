package abuse_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/abuse"
)

func (e *env) signUp(t *testing.T, name, ip string) (billing.User, billing.Account) {
	t.Helper()
	u, acc, err := e.svc.SignUp(e.ctx, billing.SignUpInput{Name: name, Email: fmt.Sprintf("%s@cards.test", name),
		Password: "correct horse battery staple", IP: ip})
	if err != nil {
		t.Fatal(err)
	}
	return u, acc
}

func (e *env) checkout(t *testing.T, userID, ip string) string {
	t.Helper()
	co, err := e.svc.StartCheckoutFrom(e.ctx, userID, billing.KindPack, "starter", "usd", ip)
	if err != nil {
		t.Fatal(err)
	}
	return co.SessionID
}

// decline sends a payment_intent.payment_failed event (a card declined on Checkout).
func (e *env) decline(t *testing.T, evID, accountID string) {
	t.Helper()
	_, err := e.svc.ProcessPaymentEvent(e.ctx, billing.PaymentEvent{ID: evID, Type: "payment_intent.payment_failed",
		Created: e.clock.Now(), PaymentIntent: &billing.PaymentIntentEvent{ID: "pi_" + evID, Status: "requires_payment_method",
			Amount: 10_00, Currency: "usd", Metadata: map[string]string{"kind": billing.KindPack, "account": accountID}}})
	if err != nil {
		t.Fatal(err)
	}
}

// run runs the detectors and returns the open card-testing flags by account.
func (e *env) cardFlags(t *testing.T) map[string]map[string]any {
	t.Helper()
	if _, err := e.det.Run(e.ctx); err != nil {
		t.Fatal(err)
	}
	flags, err := e.det.Queue(e.ctx, abuse.Filter{Kind: abuse.KindCardTesting})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, f := range flags {
		var ev map[string]any
		if err := json.Unmarshal(f.Evidence, &ev); err != nil {
			t.Fatal(err)
		}
		out[f.AccountID] = ev
	}
	return out
}

// TestCardTestingFromOneNetwork: unpaid checkouts and declined cards from one /24, spread over
// accounts each below the per-account thresholds, flag every account of the network once the
// network's total reaches the threshold; the evidence names the network and the others. An
// account paying from another network is not flagged, and a replayed event counts once.
func TestCardTestingFromOneNetwork(t *testing.T) {
	e := newEnv(t)
	th := abuse.DefaultThresholds()
	var accs []string
	var users []string
	for i := range 3 {
		u, acc := e.signUp(t, fmt.Sprintf("carder%d", i), fmt.Sprintf("198.19.%d.1", i))
		accs, users = append(accs, acc.ID), append(users, u.ID)
	}
	ou, other := e.signUp(t, "bystander", "198.19.9.1")
	attempts := int64(0)
	for i, u := range users {
		for range 2 {
			e.checkout(t, u, fmt.Sprintf("203.0.113.%d", 10+i))
			attempts++
		}
		e.decline(t, "evt_net_"+accs[i], accs[i])
		e.decline(t, "evt_net_"+accs[i], accs[i]) // a replay
		attempts++
	}
	for range 5 {
		e.checkout(t, ou.ID, "198.51.100.7")
	}
	if attempts >= th.NetworkCardAttempts {
		t.Fatalf("setup: %d attempts already reach the threshold %d", attempts, th.NetworkCardAttempts)
	}
	if got := e.cardFlags(t); len(got) != 0 {
		t.Fatalf("flagged below the network threshold (%d attempts): %v", attempts, got)
	}
	for attempts < th.NetworkCardAttempts {
		e.checkout(t, users[0], "203.0.113.99")
		attempts++
	}
	e.clock.Advance(time.Minute)
	got := e.cardFlags(t)
	if _, ok := got[other.ID]; ok {
		t.Errorf("the account of another network was flagged: %v", got[other.ID])
	}
	for _, acc := range accs {
		ev, ok := got[acc]
		if !ok {
			t.Errorf("account %s of the network not flagged (%d attempts)", acc, attempts)
			continue
		}
		if ev["network"] != "203.0.113.0/24" || ev["accounts"] != float64(3) || ev["failed_payments"] != float64(3) {
			t.Errorf("evidence %v", ev)
		}
		var others []string
		for _, o := range ev["other_accounts"].([]any) {
			others = append(others, o.(string))
		}
		for _, o := range accs {
			if slices.Contains(others, o) == (o == acc) {
				t.Errorf("evidence of %s names other accounts %v", acc, others)
			}
		}
	}
}

// TestFailedPaymentsFlagAnAccount: declined cards and a failed asynchronous checkout payment
// of one account flag it at the threshold, not below; replays count once.
func TestFailedPaymentsFlagAnAccount(t *testing.T) {
	e := newEnv(t)
	th := abuse.DefaultThresholds()
	u, acc := e.signUp(t, "decliner", "198.19.20.1")
	sess := e.checkout(t, u.ID, "198.19.20.1")
	for i := range th.FailedPayments - 1 {
		e.decline(t, fmt.Sprintf("evt_fail_%d", i), acc.ID)
		e.decline(t, fmt.Sprintf("evt_fail_%d", i), acc.ID)
	}
	if got := e.cardFlags(t); len(got) != 0 {
		t.Fatalf("flagged below the threshold: %v", got)
	}
	ev := billing.PaymentEvent{ID: "evt_async_fail", Type: "checkout.session.async_payment_failed", Created: e.clock.Now(),
		Checkout: &billing.CheckoutEvent{ID: sess, ClientReferenceID: acc.ID, Mode: "payment", PaymentStatus: "unpaid",
			Metadata: map[string]string{"kind": billing.KindPack, "pack": "starter"}}}
	if _, err := e.svc.ProcessPaymentEvent(e.ctx, ev); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	got := e.cardFlags(t)
	fe, ok := got[acc.ID]
	if !ok {
		t.Fatalf("not flagged at %d failed payments: %v", th.FailedPayments, got)
	}
	if fe["failed_payments"] != float64(th.FailedPayments) || fe["failed_async_checkouts"] != float64(1) ||
		fe["declined_on_checkout"] != float64(th.FailedPayments-1) {
		t.Errorf("evidence %v", fe)
	}
	if nets, _ := fe["networks"].([]any); len(nets) != 1 || nets[0] != "198.19.20.0/24" {
		t.Errorf("networks %v, want the checkout's /24", fe["networks"])
	}
}
