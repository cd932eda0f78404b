package payments_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"creditline/billing"
	"github.com/stripe/stripe-go/v76/webhook"
)

func packSession(id, acc, cus, status string) map[string]any {
	return map[string]any{"id": id, "object": "checkout.session", "client_reference_id": acc, "customer": cus,
		"mode": "payment", "payment_status": status, "amount_total": 4500, "currency": "usd", "payment_intent": "pi_" + id,
		"created": time.Now().Unix(), "metadata": map[string]string{"kind": "pack", "pack": "growth"}}
}

// A paid session is granted once, whether completed arrives twice or async_payment_succeeded follows.
func TestPackCheckoutGrantsOncePerSession(t *testing.T) {
	e := newEnv(t)
	uid, acc := e.user()
	cus := e.customer(uid)
	before := e.available(acc.ID)
	now := time.Now()
	sess := packSession(e.u("cs_1"), acc.ID, cus, "paid")
	out := e.send(e.u("evt_1"), "checkout.session.completed", now, sess)
	if got := e.available(acc.ID) - before; got != c("500") {
		t.Fatalf("granted %s, want 500 (%v)", got, out)
	}
	if out := e.send(e.u("evt_1"), "checkout.session.completed", now, sess); out["replayed"] != true {
		t.Fatalf("replay not recognised: %v", out)
	}
	e.send(e.u("evt_2"), "checkout.session.async_payment_succeeded", now, sess)
	if got := e.available(acc.ID) - before; got != c("500") {
		t.Fatalf("after replay and second event: %s, want 500", got)
	}
	ps, _ := e.st.ListPayments(context.Background(), acc.ID, 10)
	if len(ps) != 1 || ps[0].Amount != 4500 || ps[0].Credits != c("500") {
		t.Fatalf("payments %+v", ps)
	}
	rec, err := e.svc.PaymentEvent(context.Background(), e.u("evt_1"))
	if err != nil || rec.Status != billing.EventProcessed || rec.Attempts != 2 {
		t.Fatalf("event record %+v %v", rec, err)
	}
}

// An unpaid completion (bank debit pending) grants nothing until async_payment_succeeded.
func TestAsyncPaymentGrantsOnlyWhenPaid(t *testing.T) {
	e := newEnv(t)
	uid, acc := e.user()
	cus := e.customer(uid)
	before := e.available(acc.ID)
	e.send(e.u("evt_a1"), "checkout.session.completed", time.Now(), packSession(e.u("cs_a"), acc.ID, cus, "unpaid"))
	if e.available(acc.ID) != before {
		t.Fatal("credits granted before the money moved")
	}
	e.send(e.u("evt_a2"), "checkout.session.async_payment_succeeded", time.Now(), packSession(e.u("cs_a"), acc.ID, cus, "paid"))
	if got := e.available(acc.ID) - before; got != c("500") {
		t.Fatalf("granted %s", got)
	}
	// A failed bank payment on another session notifies and grants nothing.
	e.send(e.u("evt_a3"), "checkout.session.async_payment_failed", time.Now(), packSession(e.u("cs_b"), acc.ID, cus, "unpaid"))
	ns, _ := e.svc.Notifications(context.Background(), acc.ID)
	if len(ns) != 1 || ns[0].Kind != "payment_failed" {
		t.Fatalf("notifications %+v", ns)
	}
}

func TestBadAndStaleSignaturesChangeNothing(t *testing.T) {
	e := newEnv(t)
	uid, acc := e.user()
	cus := e.customer(uid)
	before := e.available(acc.ID)
	body := event(e.u("evt_bad"), "checkout.session.completed", time.Now(), packSession(e.u("cs_x"), acc.ID, cus, "paid"))
	if st, _ := e.sendAt(body, time.Now(), "whsec_wrong"); st != http.StatusBadRequest {
		t.Fatalf("bad signature: %d", st)
	}
	if st, _ := e.sendAt(body, time.Now().Add(-10*time.Minute), secret); st != http.StatusBadRequest {
		t.Fatalf("stale signature: %d", st)
	}
	if st, _ := e.sendAt(body, time.Now(), secret); st != http.StatusOK {
		t.Fatalf("good signature: %d", st)
	}
	if e.available(acc.ID)-before != c("500") {
		t.Fatal("the good delivery should grant")
	}
	if _, err := e.svc.PaymentEvent(context.Background(), e.u("evt_bad")); err != nil {
		t.Fatal(err)
	}
	// A body changed after signing fails too.
	signed := event(e.u("evt_tampered"), "checkout.session.completed", time.Now(), packSession(e.u("cs_y"), acc.ID, cus, "paid"))
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: signed, Secret: secret})
	req, _ := http.NewRequest(http.MethodPost, e.url+"/webhooks/stripe", strings.NewReader(strings.Replace(string(signed), "growth", "scale", 1)))
	req.Header.Set("Stripe-Signature", sp.Header)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("tampered: %d", resp.StatusCode)
	}
	if _, err := e.svc.PaymentEvent(context.Background(), e.u("evt_tampered")); billing.ErrorCode(err) != billing.ENotFound {
		t.Fatalf("a refused event must not be stored: %v", err)
	}
}

func TestUnhandledEventIsStoredAndIgnored(t *testing.T) {
	e := newEnv(t)
	out := e.send(e.u("evt_u"), "customer.created", time.Now(), map[string]any{"id": "cus_x", "object": "customer"})
	if out["outcome"] != "ignored: customer.created is not handled" {
		t.Fatalf("%v", out)
	}
}

// The same event delivered concurrently (Stripe retries overlap) grants once.
func TestConcurrentDeliveriesGrantOnce(t *testing.T) {
	e := newEnv(t)
	uid, acc := e.user()
	cus := e.customer(uid)
	before := e.available(acc.ID)
	body := event(e.u("evt_race"), "checkout.session.completed", time.Now(), packSession(e.u("cs_race"), acc.ID, cus, "paid"))
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func() { defer wg.Done(); codes[i], _ = e.sendAt(body, time.Now(), secret) }()
	}
	wg.Wait()
	for _, code := range codes {
		if code != http.StatusOK {
			t.Fatalf("codes %v", codes)
		}
	}
	if got := e.available(acc.ID) - before; got != c("500") {
		t.Fatalf("granted %s, want 500 once", got)
	}
}
