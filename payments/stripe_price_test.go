package payments_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"creditline/billing"
	"creditline/payments"
)

// checkoutRecorder sits between the Stripe provider and stripe-mock and keeps the body of
// every Checkout session request (stripe-mock validates them and keeps nothing).
type checkoutRecorder struct {
	mu     sync.Mutex
	bodies []url.Values
}

func (r *checkoutRecorder) start(t *testing.T, mock string) string {
	t.Helper()
	target, err := url.Parse(mock)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPost && req.URL.Path == "/v1/checkout/sessions" {
			b, _ := io.ReadAll(req.Body)
			req.Body = io.NopCloser(bytes.NewReader(b))
			if v, err := url.ParseQuery(string(b)); err == nil {
				r.mu.Lock()
				r.bodies = append(r.bodies, v)
				r.mu.Unlock()
			}
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (r *checkoutRecorder) last(t *testing.T) url.Values {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bodies) == 0 {
		t.Fatal("no checkout session was requested")
	}
	return r.bodies[len(r.bodies)-1]
}

// withCatalogRestored puts the plan and pack back as they were when the test ends (the
// package's tests share one database).
func withCatalogRestored(t *testing.T, svc *billing.Service, plan, pack string) (billing.Plan, billing.Pack) {
	t.Helper()
	ctx := context.Background()
	pl, err := svc.Plan(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := svc.Pack(ctx, pack)
	if err != nil {
		t.Fatal(err)
	}
	op := billing.Op{Actor: billing.UserActor("usr_ops"), Reason: "restore"}
	t.Cleanup(func() { _ = svc.SavePlanAs(ctx, op, pl); _ = svc.SavePackAs(ctx, op, pk) })
	return pl, pk
}

// TestCheckoutUsesStripePriceIDs: with Stripe keys, a plan or pack carrying a Stripe price id
// for the chosen currency checks out with that price (no inline price_data); a currency
// without an id is priced inline as before. stripe-mock accepts every request.
func TestCheckoutUsesStripePriceIDs(t *testing.T) {
	rec := &checkoutRecorder{}
	base := rec.start(t, startStripeMock(t))
	e := newEnv(t, func(o *billing.Options) {
		o.Payments = payments.NewStripe(payments.Config{SecretKey: "sk_test_123", APIBase: base, BaseURL: "http://localhost:8080"})
	})
	ctx := context.Background()
	plan, pack := withCatalogRestored(t, e.svc, "pro", "growth")
	op := billing.Op{Actor: billing.UserActor("usr_ops"), Reason: "stripe prices"}
	plan.PriceMonthly = billing.Prices{"usd": 49_00, "eur": 45_00}
	plan.StripePriceMonthly = billing.StripePrices{"eur": "price_1ProEurMonthly"}
	if err := e.svc.SavePlanAs(ctx, op, plan); err != nil {
		t.Fatal(err)
	}
	pack.Prices = billing.Prices{"usd": 45_00, "gbp": 36_00}
	pack.StripePrices = billing.StripePrices{"usd": "price_1GrowthUsd"}
	if err := e.svc.SavePackAs(ctx, op, pack); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		kind, key, currency, wantPrice string
		wantInline                     int64
	}{
		{billing.KindPlan, "pro", "eur", "price_1ProEurMonthly", 0},
		{billing.KindPlan, "pro", "usd", "", 49_00},
		{billing.KindPack, "growth", "usd", "price_1GrowthUsd", 0},
		{billing.KindPack, "growth", "gbp", "", 36_00},
	}
	for _, c := range cases {
		uid, _ := e.user()
		start, err := e.svc.StartCheckoutIn(ctx, uid, c.kind, c.key, c.currency)
		if err != nil || start.SessionID == "" {
			t.Fatalf("%s %s in %s: %+v %v", c.kind, c.key, c.currency, start, err)
		}
		body := rec.last(t)
		price, inlineAmount := body.Get("line_items[0][price]"), body.Get("line_items[0][price_data][unit_amount]")
		if price != c.wantPrice {
			t.Errorf("%s %s in %s: line item price %q, want %q", c.kind, c.key, c.currency, price, c.wantPrice)
		}
		switch {
		case c.wantPrice != "" && inlineAmount != "":
			t.Errorf("%s %s in %s: inline price_data sent beside the price id: %v", c.kind, c.key, c.currency, body)
		case c.wantPrice == "" && (inlineAmount != strconv.FormatInt(c.wantInline, 10) || body.Get("line_items[0][price_data][currency]") != c.currency):
			t.Errorf("%s %s in %s: inline %s %s, want %d", c.kind, c.key, c.currency, inlineAmount,
				body.Get("line_items[0][price_data][currency]"), c.wantInline)
		}
		if got := body.Get("metadata[" + c.kind + "]"); got != c.key || body.Get("metadata[kind]") != c.kind {
			t.Errorf("%s %s: metadata %v", c.kind, c.key, body)
		}
		wantMode := "payment"
		if c.kind == billing.KindPlan {
			wantMode = "subscription"
		}
		if body.Get("mode") != wantMode {
			t.Errorf("%s %s: mode %q", c.kind, c.key, body.Get("mode"))
		}
	}
}

// recordingTestMode is the test-mode provider, remembering what it was asked to check out.
type recordingTestMode struct {
	billing.Payments
	mu   sync.Mutex
	last billing.CheckoutInput
}

func (r *recordingTestMode) CreateCheckoutSession(ctx context.Context, in billing.CheckoutInput) (billing.CheckoutSession, error) {
	r.mu.Lock()
	r.last = in
	r.mu.Unlock()
	return r.Payments.CreateCheckoutSession(ctx, in)
}

// TestStripePriceIDsIgnoredInTestMode: without Stripe keys (test-mode payments) a plan or pack
// with Stripe price ids checks out exactly as before: the amount inline, no price id passed,
// and the purchase fulfilled with the pack's credits at the recorded price.
func TestStripePriceIDsIgnoredInTestMode(t *testing.T) {
	pay := &recordingTestMode{Payments: payments.NewTestMode()}
	e := newEnv(t, func(o *billing.Options) { o.Payments = pay })
	ctx := context.Background()
	_, pack := withCatalogRestored(t, e.svc, "pro", "growth")
	pack.Prices = billing.Prices{"usd": 45_00, "eur": 41_50}
	pack.StripePrices = billing.StripePrices{"usd": "price_1GrowthUsd", "eur": "price_1GrowthEur"}
	if err := e.svc.SavePackAs(ctx, billing.Op{Actor: billing.UserActor("usr_ops"), Reason: "stripe prices"}, pack); err != nil {
		t.Fatal(err)
	}
	uid, acc := e.user()
	before := e.available(acc.ID)
	start, err := e.svc.StartCheckoutIn(ctx, uid, billing.KindPack, "growth", "eur")
	if err != nil {
		t.Fatal(err)
	}
	pay.mu.Lock()
	in := pay.last
	pay.mu.Unlock()
	if in.PriceID != "" || in.Amount != 41_50 || in.Currency != "eur" {
		t.Errorf("test-mode checkout input %+v: want 41.50 EUR inline and no price id", in)
	}
	if err := e.svc.CompleteTestCheckout(ctx, uid, strings.TrimPrefix(start.URL, "/checkout/test/")); err != nil {
		t.Fatal(err)
	}
	if got := e.available(acc.ID) - before; got != pack.GrantCredits() {
		t.Errorf("granted %s, want %s", got, pack.GrantCredits())
	}
	ps, err := e.st.ListPayments(ctx, acc.ID, 10)
	if err != nil || len(ps) != 1 || ps[0].Amount != 41_50 || ps[0].Currency != "eur" {
		t.Errorf("payments %+v %v, want one of 41.50 EUR", ps, err)
	}
}
