package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"creditline/billing"
	"creditline/web/webtest"
)

// apiEnv is a server, a platform key and a helper to make funded accounts.
type apiEnv struct {
	*webtest.Env
	api *webtest.APIClient
	t   *testing.T
	n   atomic.Int64
}

func newAPIEnv(t *testing.T) *apiEnv {
	env := webtest.Start(t)
	a := &apiEnv{Env: env, api: env.PlatformKey(t), t: t}
	t.Cleanup(func() {
		vs, err := env.Svc.Verify(context.Background())
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		for _, v := range vs {
			t.Errorf("verify: %s", v)
		}
	})
	return a
}

// account creates an account through the API (optionally on a plan) and grants credits.
func (a *apiEnv) account(credits, plan string) string {
	a.t.Helper()
	ext := fmt.Sprintf("cust-%d-%d", time.Now().UnixNano(), a.n.Add(1))
	r := a.api.Do("POST", "/api/v1/accounts", map[string]any{"external_id": ext, "name": "Customer " + ext})
	if r.Status != 201 {
		a.t.Fatalf("create account: %d %s", r.Status, r.Raw)
	}
	id := r.Str("id")
	if plan != "" && plan != "free" {
		if err := a.Svc.SetPlan(context.Background(), id, plan); err != nil {
			a.t.Fatal(err)
		}
	}
	if credits != "0" {
		g := a.api.Do("POST", "/api/v1/accounts/"+id+"/grants", map[string]any{"credits": credits, "source": "promo", "reason": "test", "idempotency_key": "seed"})
		if g.Status != 201 {
			a.t.Fatalf("grant: %d %s", g.Status, g.Raw)
		}
	}
	return id
}

func usage(acc, key string, in, out int) map[string]any {
	return map[string]any{"account": acc, "action": "chat.completion", "idempotency_key": key,
		"attributes": map[string]any{"model": "gpt-4o"}, "quantities": map[string]any{"input_tokens": in, "output_tokens": out}}
}

func flat(acc, key string) map[string]any {
	return map[string]any{"account": acc, "action": "chat.completion", "idempotency_key": key, "attributes": map[string]any{"model": "small-open"}}
}

func TestAPIUsageAndIdempotency(t *testing.T) {
	a := newAPIEnv(t)
	acc := a.account("100", "pro")
	r := a.api.Do("POST", "/api/v1/usage", usage(acc, "u1", 1000, 1000))
	// 12.5 on list price, pro ×0.9 = 11.25.
	if r.Status != 201 || r.Str("credits") != "11.25" || r.Str("balance") != "88.75" || r.Str("available") != "88.75" {
		t.Fatalf("usage: %d %s", r.Status, r.Raw)
	}
	again := a.api.Do("POST", "/api/v1/usage", usage(acc, "u1", 1000, 1000))
	if again.Status != 200 || again.Header.Get("Idempotent-Replayed") != "true" || string(again.Raw) != string(r.Raw) {
		t.Fatalf("replay: %d %s %s", again.Status, again.Header.Get("Idempotent-Replayed"), again.Raw)
	}
	conflict := a.api.Do("POST", "/api/v1/usage", usage(acc, "u1", 1000, 2000))
	if conflict.Status != 409 || conflict.Code() != "idempotency_conflict" {
		t.Fatalf("conflict: %d %s", conflict.Status, conflict.Raw)
	}
	b := a.api.Do("GET", "/api/v1/accounts/"+acc+"/balance", nil)
	if b.Str("balance") != "88.75" {
		t.Fatalf("charged twice? %s", b.Raw)
	}
	// external:<id> addressing works everywhere an account is named.
	acct := a.api.Do("GET", "/api/v1/accounts/"+acc, nil)
	ext := acct.Body["external_id"].(string)
	if r := a.api.Do("GET", "/api/v1/accounts/external:"+ext+"/balance", nil); r.Status != 200 || r.Str("account") != acc {
		t.Fatalf("external addressing: %d %s", r.Status, r.Raw)
	}
	list := a.api.Do("GET", "/api/v1/accounts/"+acc+"/usage?limit=10", nil)
	if data, _ := list.Body["data"].([]any); list.Status != 200 || len(data) != 1 {
		t.Fatalf("usage list: %s", list.Raw)
	}
}

func TestAPIErrorCodes(t *testing.T) {
	a := newAPIEnv(t)
	acc := a.account("10", "free")
	cases := []struct {
		name   string
		client *webtest.APIClient
		method string
		path   string
		body   any
		status int
		code   string
	}{
		{"no key", a.api.WithKey(""), "GET", "/api/v1/accounts/" + acc, nil, 401, "unauthenticated"},
		{"bad key", a.api.WithKey("sk_nope"), "GET", "/api/v1/accounts/" + acc, nil, 401, "unauthenticated"},
		{"malformed json", a.api, "POST", "/api/v1/usage", `{"account":`, 400, "invalid_request"},
		{"wrong type", a.api, "POST", "/api/v1/usage", `{"account": 5}`, 400, "invalid_request"},
		{"unknown field", a.api, "POST", "/api/v1/usage", `{"acount": "x"}`, 400, "invalid_request"},
		{"missing key", a.api, "POST", "/api/v1/usage", map[string]any{"account": acc, "action": "chat.completion"}, 400, "invalid_request"},
		{"huge body", a.api, "POST", "/api/v1/usage", `{"metadata": {"x": "` + strings.Repeat("a", 1<<20) + `"}}`, 400, "invalid_request"},
		{"bad credits", a.api, "POST", "/api/v1/accounts/" + acc + "/grants", map[string]any{"credits": "1.2345", "source": "promo", "idempotency_key": "g"}, 400, "invalid_request"},
		{"fractional count", a.api, "POST", "/api/v1/usage", map[string]any{"account": acc, "action": "image.generate", "idempotency_key": "f", "attributes": map[string]any{"model": "sdxl"}, "quantities": map[string]any{"images": 1.5}}, 400, "invalid_request"},
		{"unknown account", a.api, "GET", "/api/v1/accounts/acc_nope", nil, 404, "not_found"},
		{"unknown action", a.api, "POST", "/api/v1/usage", map[string]any{"account": acc, "action": "teleport", "idempotency_key": "x"}, 422, "unknown_action"},
		{"premium model on free", a.api, "POST", "/api/v1/usage", usage(acc, "p", 10, 10), 403, "feature_not_entitled"},
		{"insufficient", a.api, "POST", "/api/v1/usage", map[string]any{"account": acc, "action": "video.generate", "idempotency_key": "v", "quantities": map[string]any{"seconds": 6}}, 402, "insufficient_credits"},
	}
	for _, c := range cases {
		r := c.client.Do(c.method, c.path, c.body)
		if r.Status != c.status || r.Code() != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Raw, c.status, c.code)
		}
	}
	r := a.api.Do("POST", "/api/v1/usage", map[string]any{"account": acc, "action": "video.generate", "idempotency_key": "v", "quantities": map[string]any{"seconds": 6}})
	if d := r.Details(); d["required"] != "12" || d["available"] != "10" {
		t.Errorf("insufficient details %v", d)
	}
	r = a.api.Do("POST", "/api/v1/usage", map[string]any{"account": acc, "idempotency_key": "k"})
	if f, _ := r.Details()["fields"].(map[string]any); f["action"] == nil {
		t.Errorf("missing action not named: %s", r.Raw)
	}
	// Nothing moved on any of these errors.
	if b := a.api.Do("GET", "/api/v1/accounts/"+acc+"/balance", nil); b.Str("balance") != "10" {
		t.Fatalf("balance moved on errors: %s", b.Raw)
	}

	// Paused and suspended accounts.
	ctx := context.Background()
	a.Svc.SetAccountStatus(ctx, acc, billing.StatusPaused, "")
	if r := a.api.Do("POST", "/api/v1/usage", flat(acc, "s1")); r.Status != 403 || r.Code() != "account_paused" {
		t.Errorf("paused: %d %s", r.Status, r.Raw)
	}
	a.Svc.SetAccountStatus(ctx, acc, billing.StatusSuspended, "abuse review")
	if r := a.api.Do("POST", "/api/v1/usage", flat(acc, "s2")); r.Status != 403 || r.Code() != "account_suspended" {
		t.Errorf("suspended: %d %s", r.Status, r.Raw)
	}
	a.Svc.SetAccountStatus(ctx, acc, billing.StatusActive, "")

	// Hard spend limit.
	limit := billing.MustCredits("2")
	a.Svc.SetSpendLimit(ctx, acc, &limit, billing.SpendHard, nil)
	a.api.Do("POST", "/api/v1/usage", flat(acc, "l1"))
	a.api.Do("POST", "/api/v1/usage", flat(acc, "l2"))
	if r := a.api.Do("POST", "/api/v1/usage", flat(acc, "l3")); r.Status != 402 || r.Code() != "spend_limit_reached" {
		t.Errorf("hard limit: %d %s", r.Status, r.Raw)
	}
	est := a.api.Do("POST", "/api/v1/estimate", map[string]any{"account": acc, "action": "chat.completion", "attributes": map[string]any{"model": "small-open"}})
	if est.Status != 200 || est.Body["allowed"] != false || est.Str("reason") != "spend_limit_reached" || est.Str("credits") != "1" {
		t.Errorf("estimate over limit: %s", est.Raw)
	}

	// Account keys: own account only, never grants.
	other := a.account("5", "free")
	k := a.api.Do("POST", "/api/v1/accounts/"+acc+"/api-keys", map[string]any{"name": "customer code"})
	if k.Status != 201 || !strings.HasPrefix(k.Str("key"), "ak_") {
		t.Fatalf("account key: %d %s", k.Status, k.Raw)
	}
	ak := a.api.WithKey(k.Str("key"))
	if r := ak.Do("GET", "/api/v1/accounts/"+other+"/balance", nil); r.Status != 404 || r.Code() != "not_found" {
		t.Errorf("account key on another account: %d %s", r.Status, r.Raw)
	}
	if r := ak.Do("GET", "/api/v1/accounts/"+acc+"/balance", nil); r.Status != 200 {
		t.Errorf("account key on its account: %d %s", r.Status, r.Raw)
	}
	if r := ak.Do("POST", "/api/v1/accounts/"+acc+"/grants", map[string]any{"credits": "1000", "source": "promo", "idempotency_key": "steal"}); r.Status != 403 {
		t.Errorf("account key granting: %d %s", r.Status, r.Raw)
	}
	keys, _ := a.Svc.APIKeys(ctx, acc)
	if err := a.Svc.RevokeAPIKey(ctx, keys[0].ID, acc); err != nil {
		t.Fatal(err)
	}
	if r := ak.Do("GET", "/api/v1/accounts/"+acc+"/balance", nil); r.Status != 401 {
		t.Errorf("revoked key: %d %s", r.Status, r.Raw)
	}
}

func TestAPIRateLimit(t *testing.T) {
	a := newAPIEnv(t)
	acc := a.account("0", "free") // free: 60 requests per minute
	var last *webtest.Response
	for i := 0; i < 61; i++ {
		last = a.api.Do("GET", "/api/v1/accounts/"+acc+"/balance", nil)
		if i < 59 && last.Status != 200 { // the account creation used one
			t.Fatalf("request %d: %d", i, last.Status)
		}
	}
	if last.Status != 429 || last.Code() != "rate_limited" || last.Header.Get("Retry-After") == "" {
		t.Fatalf("61st request: %d %s Retry-After=%q", last.Status, last.Raw, last.Header.Get("Retry-After"))
	}
}

func TestAPIWarnings(t *testing.T) {
	a := newAPIEnv(t)
	ctx := context.Background()
	acc := a.account("0", "enterprise")
	// A purchase of 100 sets the low-balance threshold to 10.
	if _, err := a.Svc.Grant(ctx, billing.GrantInput{AccountID: acc, Source: "purchase", Amount: billing.MustCredits("100"), Reason: "pack"}); err != nil {
		t.Fatal(err)
	}
	video := func(key string, secs int) *webtest.Response {
		return a.api.Do("POST", "/api/v1/usage", map[string]any{"account": acc, "action": "video.generate", "idempotency_key": key, "quantities": map[string]any{"seconds": secs}})
	}
	if r := video("w1", 50); !hasWarning(r, "low_balance") { // 2×50×0.8 = 80: 20 left
		if r2 := video("w2", 7); !hasWarning(r2, "low_balance") { // 11.2 more: 8.8 left < 10
			t.Errorf("no low_balance: %s / %s", r.Raw, r2.Raw)
		}
	}
	soft := billing.MustCredits("50")
	a.Svc.SetSpendLimit(ctx, acc, &soft, billing.SpendSoft, nil)
	if r := video("w3", 1); r.Status != 201 || !hasWarning(r, "spend_limit_soft_exceeded") {
		t.Errorf("soft limit: %s", r.Raw)
	}
	a.Svc.SetSpendLimit(ctx, acc, nil, billing.SpendHard, nil)
	a.Svc.SetOverdraftLimit(ctx, acc, billing.MustCredits("50"))
	if r := video("w4", 10); r.Status != 201 || !hasWarning(r, "overdraft_used") {
		t.Errorf("overdraft: %s", r.Raw)
	}
	// capped_at_reservation: hold 16 (10 s), commit 100 s with too little left.
	acc2 := a.account("20", "enterprise")
	h := a.api.Do("POST", "/api/v1/reservations", map[string]any{"account": acc2, "action": "video.generate", "quantities": map[string]any{"seconds": 10}, "ttl_seconds": 60, "idempotency_key": "h"})
	if h.Status != 201 {
		t.Fatalf("reserve: %s", h.Raw)
	}
	cm := a.api.Do("POST", "/api/v1/reservations/"+h.Str("id")+"/commit", map[string]any{"quantities": map[string]any{"seconds": 100}, "idempotency_key": "c"})
	if cm.Status != 201 || !hasWarning(cm, "capped_at_reservation") || cm.Str("credits") != "20" {
		t.Errorf("capped commit: %s", cm.Raw)
	}
}

func hasWarning(r *webtest.Response, w string) bool {
	ws, _ := r.Body["warnings"].([]any)
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

// 300 concurrent debits of 5 credits on 500: exactly 100 succeed, the rest are 402.
func TestAPIConcurrentDebits(t *testing.T) {
	a := newAPIEnv(t)
	acc := a.account("500", "enterprise")
	if err := a.Svc.SetPlan(context.Background(), acc, "enterprise"); err != nil {
		t.Fatal(err)
	}
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := 0; i < 300; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			// 5 credits: image.generate sdxl (5) on enterprise ×0.8 = 4, so use video 2.5 s ×0.8 = 4... keep exact 5:
			r := a.api.Do("POST", "/api/v1/usage", map[string]any{"account": acc, "action": "video.generate",
				"idempotency_key": fmt.Sprintf("c-%d", i), "quantities": map[string]any{"seconds": "3.125"}})
			switch r.Status {
			case 201:
				if r.Str("credits") != "5" {
					t.Errorf("charged %s", r.Str("credits"))
				}
				ok.Add(1)
			case 402:
				refused.Add(1)
			default:
				t.Errorf("status %d %s", r.Status, r.Raw)
			}
		}(i)
	}
	wg.Wait()
	if ok.Load() != 100 || refused.Load() != 200 {
		t.Fatalf("ok %d refused %d", ok.Load(), refused.Load())
	}
	if b := a.api.Do("GET", "/api/v1/accounts/"+acc+"/balance", nil); b.Str("balance") != "0" {
		t.Fatalf("balance %s", b.Raw)
	}
}

func TestAPIReservations(t *testing.T) {
	a := newAPIEnv(t)
	acc := a.account("100", "enterprise")
	reserve := func(key string, secs, ttl int) *webtest.Response {
		return a.api.Do("POST", "/api/v1/reservations", map[string]any{"account": acc, "action": "video.generate",
			"quantities": map[string]any{"seconds": secs}, "ttl_seconds": ttl, "idempotency_key": key})
	}
	h := reserve("r1", 25, 600) // 2 × 25 × 0.8 = 40
	if h.Status != 201 || h.Str("credits") != "40" || h.Str("expires_at") == "" {
		t.Fatalf("reserve: %s", h.Raw)
	}
	if b := a.api.Do("GET", "/api/v1/accounts/"+acc+"/balance", nil); b.Str("available") != "60" || b.Str("reserved") != "40" {
		t.Fatalf("after hold: %s", b.Raw)
	}
	if r := reserve("r2", 50, 600); r.Status != 402 || r.Code() != "insufficient_credits" {
		t.Fatalf("hold beyond available: %s", r.Raw)
	}
	cm := a.api.Do("POST", "/api/v1/reservations/"+h.Str("id")+"/commit", map[string]any{"quantities": map[string]any{"seconds": 10}, "idempotency_key": "c1"})
	if cm.Status != 201 || cm.Str("credits") != "16" || cm.Str("balance") != "84" || cm.Str("available") != "84" {
		t.Fatalf("commit for less: %s", cm.Raw)
	}
	if r := a.api.Do("POST", "/api/v1/reservations/"+h.Str("id")+"/commit", map[string]any{"quantities": map[string]any{"seconds": 10}, "idempotency_key": "c1"}); r.Status != 200 || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("commit replay: %d %s", r.Status, r.Raw)
	}
	h2 := reserve("r3", 5, 600)
	if r := a.api.Do("POST", "/api/v1/reservations/"+h2.Str("id")+"/release", nil); r.Status != 200 || r.Str("status") != "released" {
		t.Fatalf("release: %s", r.Raw)
	}
	// A 1-second hold is released by the server without any further call.
	h3 := reserve("r4", 5, 1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		b := a.api.Do("GET", "/api/v1/accounts/"+acc+"/balance", nil)
		if b.Str("reserved") == "0" && b.Str("available") == "84" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hold %s not released by the server: %s", h3.Str("id"), b.Raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := a.api.Do("POST", "/api/v1/reservations/"+h3.Str("id")+"/commit", map[string]any{"quantities": map[string]any{"seconds": 1}, "idempotency_key": "late"}); r.Status != 400 {
		t.Fatalf("commit of an expired hold: %d %s", r.Status, r.Raw)
	}
	if r := a.api.Do("POST", "/api/v1/reservations/hld_nope/release", nil); r.Status != http.StatusNotFound {
		t.Fatalf("unknown reservation: %d", r.Status)
	}
}

func TestAPIBatch(t *testing.T) {
	a := newAPIEnv(t)
	acc := a.account("3", "enterprise")
	free := a.account("3", "free")
	r := a.api.Do("POST", "/api/v1/usage/batch", map[string]any{"events": []any{
		flat(acc, "b1"),
		map[string]any{"account": acc, "action": "video.generate", "idempotency_key": "b2", "quantities": map[string]any{"seconds": 100}},
		flat(acc, "b3"),
		map[string]any{"account": acc, "action": "teleport", "idempotency_key": "b4"},
		flat(acc, "b1"),
		flat(free, "b5"),
	}})
	if r.Status != 200 {
		t.Fatalf("batch: %d %s", r.Status, r.Raw)
	}
	res := r.Body["results"].([]any)
	want := []string{"created", "failed", "created", "failed", "replayed", "failed"}
	for i, w := range want {
		got := res[i].(map[string]any)
		if got["status"] != w {
			t.Errorf("event %d: %v, want %s", i, got, w)
		}
	}
	// Batch price: small-open 1 × enterprise 0.8 × batch 0.8 = 0.64.
	if c := res[0].(map[string]any)["credits"]; c != "0.64" {
		t.Errorf("batch price %v", c)
	}
	if e := res[5].(map[string]any)["error"].(map[string]any); e["code"] != "feature_not_entitled" {
		t.Errorf("free plan batch: %v", e)
	}
	big := make([]any, 1001)
	for i := range big {
		big[i] = flat(acc, fmt.Sprint(i))
	}
	if r := a.api.Do("POST", "/api/v1/usage/batch", map[string]any{"events": big}); r.Status != 400 {
		t.Errorf("1001 events: %d", r.Status)
	}
}

// Bad credits and quantities name their field; credits sent as a number say they are strings.
func TestAPIFieldErrorsForDecimals(t *testing.T) {
	a := newAPIEnv(t)
	acc := a.account("10", "free")
	for _, c := range []struct {
		path  string
		body  string
		field string
	}{
		{"/api/v1/accounts/" + acc + "/grants", `{"credits":"1.2345","source":"promo","idempotency_key":"g"}`, "credits"},
		{"/api/v1/accounts/" + acc + "/grants", `{"credits":100,"source":"promo","idempotency_key":"g"}`, "credits"},
		{"/api/v1/usage", `{"account":"` + acc + `","action":"image.generate","idempotency_key":"q","attributes":{"model":"sdxl"},"quantities":{"images":"abc"}}`, "quantities.images"},
		{"/api/v1/usage", `{"account":"` + acc + `","action":"file.process","idempotency_key":"q","quantities":{"megabytes":1.0001}}`, "quantities.megabytes"},
		{"/api/v1/accounts", `{"name":"no external id"}`, "external_id"},
	} {
		r := a.api.Do("POST", c.path, c.body)
		f, _ := r.Details()["fields"].(map[string]any)
		if r.Status != 400 || f[c.field] == nil {
			t.Errorf("%s %s: %d %s, want a field error on %s", c.path, c.body, r.Status, r.Raw, c.field)
		}
	}
	r := a.api.Do("POST", "/api/v1/accounts/"+acc+"/grants", `{"credits":100,"source":"promo","idempotency_key":"g"}`)
	if !strings.Contains(string(r.Raw), "strings in JSON") {
		t.Errorf("credits as a number: %s", r.Raw)
	}
	// Grant replays return the first response byte for byte (timestamps included).
	first := a.api.Do("POST", "/api/v1/accounts/"+acc+"/grants", map[string]any{"credits": "2", "source": "promo", "reason": "r", "idempotency_key": "same"})
	again := a.api.Do("POST", "/api/v1/accounts/"+acc+"/grants", map[string]any{"credits": "2", "source": "promo", "reason": "r", "idempotency_key": "same"})
	if first.Status != 201 || again.Status != 200 || string(first.Raw) != string(again.Raw) {
		t.Errorf("grant replay differs:\n%s\n%s", first.Raw, again.Raw)
	}
}
