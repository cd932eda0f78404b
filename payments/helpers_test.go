package payments_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"creditline/billing"
	"creditline/handlers"
	"creditline/payments"
	"creditline/store"
	"creditline/store/pgtest"
	"creditline/web"
	"github.com/stripe/stripe-go/v76/webhook"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const secret = "whsec_test_secret"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// env is a service on a real database with the test-mode provider and the webhook endpoint
// served by the real handlers, verifying signatures with secret.
type env struct {
	t     *testing.T
	st    *store.Store
	svc   *billing.Service
	pay   *payments.TestMode
	clock *clock
	url   string
	tag   string
}

// u makes a Stripe id unique to this test (tests share the package's database).
func (e *env) u(id string) string { return id + "_" + e.tag }

var seq atomic.Int64

func newEnv(t *testing.T, opts ...func(*billing.Options)) *env {
	db := pgtest.DB(t)
	st := store.New(db)
	c := &clock{t: time.Now().UTC().Truncate(time.Millisecond)}
	pay := payments.NewTestMode()
	o := billing.Options{Now: c.Now, PasswordCost: 4, Payments: pay}
	for _, f := range opts {
		f(&o)
	}
	svc := billing.NewService(st, o)
	if err := svc.SeedCatalog(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := handlers.New(handlers.Config{Service: svc, Sessions: handlers.NewSessions([]byte("test-secret-test-secret-test-secret!"), false),
		Ready: func(ctx context.Context) error { return nil }, TestMode: true, Webhooks: payments.Webhooks{Secret: secret}})
	srv := httptest.NewServer(web.New(web.Deps{Handlers: h, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: web.NewMetrics()}))
	t.Cleanup(srv.Close)
	e := &env{t: t, st: st, svc: svc, pay: pay, clock: c, url: srv.URL, tag: fmt.Sprint(seq.Add(1))}
	t.Cleanup(e.verify)
	return e
}

// verify is `portal verify`: every ledger invariant holds.
func (e *env) verify() {
	e.t.Helper()
	vs, err := e.svc.Verify(context.Background())
	if err != nil {
		e.t.Fatalf("verify: %v", err)
	}
	for _, v := range vs {
		e.t.Errorf("verify: %s", v)
	}
}

// user signs up a user (with trial credits) and returns its id and account.
func (e *env) user() (string, billing.Account) {
	e.t.Helper()
	n := seq.Add(1)
	u, a, err := e.svc.SignUp(context.Background(), billing.SignUpInput{Name: fmt.Sprintf("User %d", n),
		Email: fmt.Sprintf("u%d-%d@example.com", n, time.Now().UnixNano()), Password: "long-enough-pw"})
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID, a
}

// customer gives the account a provider customer (as the first checkout does) and returns its id.
func (e *env) customer(userID string) string {
	e.t.Helper()
	start, err := e.svc.StartCheckout(context.Background(), userID, billing.KindPack, "starter")
	if err != nil {
		e.t.Fatal(err)
	}
	acc, _, _ := e.svc.AccountForUser(context.Background(), userID, "")
	c, err := e.st.CustomerOf(context.Background(), acc.ID)
	if err != nil || start.URL == "" {
		e.t.Fatalf("customer: %v", err)
	}
	return c.CustomerID
}

func (e *env) available(accountID string) billing.Credits {
	e.t.Helper()
	b, err := e.svc.Balance(context.Background(), accountID)
	if err != nil {
		e.t.Fatal(err)
	}
	return b.Available
}

func (e *env) account(id string) billing.Account {
	e.t.Helper()
	a, err := e.st.AccountByID(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// event is a Stripe event body of another API version than stripe-go v76 pins.
func event(id, typ string, created time.Time, obj map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "created": created.Unix(),
		"api_version": "2024-06-20", "livemode": false, "data": map[string]any{"object": obj}})
	return b
}

// send posts a body with a real signature made at ts; it returns the status and response.
func (e *env) sendAt(body []byte, ts time.Time, key string) (int, map[string]any) {
	e.t.Helper()
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: key, Timestamp: ts})
	req, _ := http.NewRequest(http.MethodPost, e.url+"/webhooks/stripe", bytes.NewReader(body))
	req.Header.Set("Stripe-Signature", sp.Header)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// send delivers an event and wants 200.
func (e *env) send(id, typ string, created time.Time, obj map[string]any) map[string]any {
	e.t.Helper()
	status, out := e.sendAt(event(id, typ, created, obj), time.Now(), secret)
	if status != http.StatusOK {
		e.t.Fatalf("%s %s: status %d %v", typ, id, status, out)
	}
	return out
}

func c(s string) billing.Credits { return billing.MustCredits(s) }

// runJobs runs due jobs until none is left.
func (e *env) runJobs() {
	w := e.svc.NewWorker(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for w.RunDue(context.Background()) > 0 {
	}
}
