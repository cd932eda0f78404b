package webhooks_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"creditline/billing"
	"creditline/billing/webhooks"
	"creditline/store"
	"creditline/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	t      *testing.T
	ctx    context.Context
	store  *store.Store
	svc    *billing.Service
	hooks  *webhooks.Service
	worker *billing.Worker
	clock  *clock
	acc    billing.Account
}

// newEnv is a service over a fresh database with a settable clock and one account; the
// webhook service allows private addresses (tests receive on 127.0.0.1) unless strict.
func newEnv(t *testing.T, strict bool) *env {
	db := pgtest.DB(t)
	st := store.New(db)
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	svc := billing.NewService(st, billing.Options{Now: c.Now, PasswordCost: 4})
	hooks := webhooks.New(svc, st.Webhooks(), webhooks.Options{AllowPrivate: !strict})
	w := svc.NewWorker(slog.New(slog.NewTextHandler(io.Discard, nil)))
	hooks.Register(w)
	ctx := context.Background()
	acc, err := svc.CreateAccount(ctx, billing.CreateAccountInput{Name: "Hooked", ExternalID: billing.NewID("ext")})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: ctx, store: st, svc: svc, hooks: hooks, worker: w, clock: c, acc: acc}
}

func keyOp() billing.Op { return billing.Op{Actor: billing.KeyActor("key_test")} }

func (e *env) endpoint(url string, events ...string) webhooks.Endpoint {
	e.t.Helper()
	ep, err := e.hooks.CreateEndpoint(e.ctx, e.acc.ID, webhooks.RoleAPIKey, webhooks.EndpointInput{URL: url, Events: events}, keyOp())
	if err != nil {
		e.t.Fatalf("create endpoint %s: %v", url, err)
	}
	return ep
}

// emit announces an event in a transaction of its own, as a change would.
func (e *env) emit(typ string, data any) {
	e.t.Helper()
	err := e.store.InTx(e.ctx, func(tx billing.Tx) error {
		return e.svc.EmitEvent(e.ctx, tx, billing.AccountEvent{AccountID: e.acc.ID, Type: typ, Data: data})
	})
	if err != nil {
		e.t.Fatalf("emit %s: %v", typ, err)
	}
}

func (e *env) deliveries(ep webhooks.Endpoint) []webhooks.Delivery {
	e.t.Helper()
	ds, err := e.hooks.Deliveries(e.ctx, e.acc.ID, ep.ID, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

// runDue runs every job due at the clock's time.
func (e *env) runDue() {
	for e.worker.RunDue(e.ctx) > 0 {
	}
}

// receiver is a test HTTP server that answers with status and body and keeps each request.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []received
	status int
	body   string
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, status int, body string) *receiver {
	r := &receiver{status: status, body: body}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, received{header: req.Header.Clone(), body: b})
		r.mu.Unlock()
		w.WriteHeader(r.status)
		io.WriteString(w, r.body)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.reqs...)
}
