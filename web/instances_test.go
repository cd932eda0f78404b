package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"creditline/billing"
	"creditline/store"
	"creditline/store/pgtest"
	"creditline/web/webtest"
)

// listen wires an instance to the database's change notifications, as portal serve does.
func listen(t *testing.T, env *webtest.Env) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	err := store.Listen(ctx, pgtest.URL(t), func(ev billing.CacheEvent) { _ = env.Svc.ApplyCacheEvent(ctx, ev) })
	if err != nil {
		t.Fatal(err)
	}
}

// TestChangesReachEveryInstance: two servers share one database, both with warm caches (each
// has debited and estimated the account). A plan change, a suspension, a pause, a reinstatement
// and a lowered spend limit made through A are honoured by the very next request on B.
func TestChangesReachEveryInstance(t *testing.T) {
	a := newAPIEnv(t)
	envB := webtest.Start(t)
	listen(t, a.Env)
	listen(t, envB)
	b := envB.PlatformKey(t)
	acc := a.account("1000", "")
	n := 0
	key := func() string { n++; return fmt.Sprintf("inst-%d", n) }
	estimate := func(c *webtest.APIClient, model string) *webtest.Response {
		t.Helper()
		r := c.Do("POST", "/api/v1/estimate", map[string]any{"account": acc, "action": "chat.completion",
			"attributes": map[string]any{"model": model}, "quantities": map[string]any{"input_tokens": 1000, "output_tokens": 1000}})
		if r.Status != 200 {
			t.Fatalf("estimate: %d %s", r.Status, r.Raw)
		}
		return r
	}
	debit := func(c *webtest.APIClient, model string) *webtest.Response {
		return c.Do("POST", "/api/v1/usage", map[string]any{"account": acc, "action": "chat.completion", "idempotency_key": key(),
			"attributes": map[string]any{"model": model}, "quantities": map[string]any{"input_tokens": 1000, "output_tokens": 1000}})
	}
	reserve := func(c *webtest.APIClient) *webtest.Response {
		return c.Do("POST", "/api/v1/reservations", map[string]any{"account": acc, "action": "chat.completion", "ttl_seconds": 60,
			"idempotency_key": key(), "attributes": map[string]any{"model": "small-open"},
			"quantities": map[string]any{"input_tokens": 1000, "output_tokens": 1000}})
	}
	patch := func(body map[string]any) {
		t.Helper()
		body["reason"] = "instances test"
		if r := a.api.Do("PATCH", "/api/v1/accounts/"+acc, body); r.Status != 200 {
			t.Fatalf("patch %v: %d %s", body, r.Status, r.Raw)
		}
	}
	refused := func(what string, r *webtest.Response, status int, code string) {
		t.Helper()
		if r.Status != status || r.Code() != code {
			t.Fatalf("%s on B: %d %s, want %d %s", what, r.Status, r.Raw, status, code)
		}
	}
	for _, c := range []*webtest.APIClient{a.api, b} { // warm both: snapshots, ledger cache, plans
		for i := 0; i < 2; i++ {
			if r := debit(c, "small-open"); r.Status != 201 {
				t.Fatalf("warm-up debit: %d %s", r.Status, r.Raw)
			}
		}
		estimate(c, "small-open")
		if r := debit(c, "gpt-4o"); r.Code() != "feature_not_entitled" {
			t.Fatalf("premium model on the free plan: %d %s", r.Status, r.Raw)
		}
	}
	freePrice := estimate(b, "small-open").Str("credits")

	patch(map[string]any{"plan": "pro"})
	proPrice := estimate(a.api, "small-open").Str("credits")
	if proPrice == freePrice {
		t.Fatalf("pro prices small-open like free (%s): the test needs a difference", proPrice)
	}
	if got := estimate(b, "small-open").Str("credits"); got != proPrice {
		t.Fatalf("estimate on B after the plan change: %s, want the pro price %s (free: %s)", got, proPrice, freePrice)
	}
	if r := debit(b, "small-open"); r.Status != 201 || r.Str("credits") != proPrice {
		t.Fatalf("debit on B after the plan change: %d %s, want %s credits", r.Status, r.Raw, proPrice)
	}
	if r := debit(b, "gpt-4o"); r.Status != 201 {
		t.Fatalf("premium model on B after the upgrade to pro: %d %s", r.Status, r.Raw)
	}

	for _, st := range []struct{ status, code string }{{"suspended", "account_suspended"}, {"paused", "account_paused"}} {
		patch(map[string]any{"status": st.status})
		refused("debit", debit(b, "small-open"), 403, st.code)
		refused("reservation", reserve(b), 403, st.code)
		if e := estimate(b, "small-open"); e.Body["allowed"] != false || e.Str("reason") != st.code {
			t.Fatalf("estimate on B while %s: %s", st.status, e.Raw)
		}
		patch(map[string]any{"status": "active"})
		if r := debit(b, "small-open"); r.Status != 201 {
			t.Fatalf("debit on B after reinstating from %s: %d %s", st.status, r.Status, r.Raw)
		}
	}

	patch(map[string]any{"spend_limit": map[string]any{"credits": "1", "mode": "hard"}})
	refused("debit", debit(b, "small-open"), 402, "spend_limit_reached")
	refused("reservation", reserve(b), 402, "spend_limit_reached")
	if e := estimate(b, "small-open"); e.Body["allowed"] != false || e.Str("reason") != "spend_limit_reached" {
		t.Fatalf("estimate on B past the spend limit: %s", e.Raw)
	}

	// What B reads from its snapshot alone (the plan behind the rate limit) follows the
	// notification, which arrives asynchronously: well within the snapshot's 8-12 s backstop.
	other := a.account("0", "")
	if e := b.Do("GET", "/api/v1/accounts/"+other+"/entitlements", nil); e.Str("plan") != "free" {
		t.Fatalf("entitlements on B: %s", e.Raw)
	}
	if r := a.api.Do("PATCH", "/api/v1/accounts/"+other, map[string]any{"plan": "enterprise", "reason": "instances test"}); r.Status != 200 {
		t.Fatalf("patch: %d %s", r.Status, r.Raw)
	}
	start := time.Now()
	deadline := start.Add(5 * time.Second)
	for {
		e := b.Do("GET", "/api/v1/accounts/"+other+"/entitlements", nil)
		if e.Str("plan") == "enterprise" {
			t.Logf("B answered with the new plan %s after the change made on A", time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("entitlements on B 5 s after the plan change made on A: %s", e.Raw)
		}
		time.Sleep(200 * time.Millisecond) // under the free plan's 60 a minute
	}

	// A key revoked on A stops working on B, which had it cached.
	r := a.api.Do("POST", "/api/v1/accounts/"+other+"/api-keys", map[string]any{"name": "revoked on A"})
	if r.Status != 201 {
		t.Fatalf("account key: %d %s", r.Status, r.Raw)
	}
	own := b.WithKey(r.Str("key"))
	if e := own.Do("GET", "/api/v1/accounts/"+other, nil); e.Status != 200 {
		t.Fatalf("account key on B: %d %s", e.Status, e.Raw)
	}
	if err := a.Svc.RevokeAccountKey(context.Background(), other, r.Str("id"), billing.Op{Actor: billing.Actor{Kind: billing.ActorSystem}}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	for deadline := start.Add(5 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		e := own.Do("GET", "/api/v1/accounts/"+other, nil)
		if e.Status == 401 {
			t.Logf("B refused the key %s after it was revoked on A", time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a key revoked on A, used on B 5 s later: %d %s", e.Status, e.Raw)
		}
	}
}
