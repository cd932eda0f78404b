package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"creditline/web/webtest"
)

// accountKey creates an account key for acc through the API.
func (a *apiEnv) accountKey(acc string) *webtest.APIClient {
	a.t.Helper()
	r := a.api.Do("POST", "/api/v1/accounts/"+acc+"/api-keys", map[string]any{"name": "own"})
	if r.Status != 201 {
		a.t.Fatalf("account key: %d %s", r.Status, r.Raw)
	}
	return a.api.WithKey(r.Str("key"))
}

func (a *apiEnv) auditCount(acc string) int {
	a.t.Helper()
	r := a.api.Do("GET", "/api/v1/audit-log?account="+acc, nil)
	if r.Status != 200 {
		a.t.Fatalf("audit log: %d %s", r.Status, r.Raw)
	}
	return len(r.Body["data"].([]any))
}

func (a *apiEnv) firstGrant(acc string) string {
	a.t.Helper()
	b := a.api.Do("GET", "/api/v1/accounts/"+acc+"/balance", nil)
	gs, _ := b.Body["grants"].([]any)
	if len(gs) == 0 {
		a.t.Fatalf("no grants: %s", b.Raw)
	}
	return gs[0].(map[string]any)["id"].(string)
}

func TestAPIUpdateAccount(t *testing.T) {
	a := newAPIEnv(t)
	acc := a.account("10", "")
	r := a.api.Do("PATCH", "/api/v1/accounts/"+acc, map[string]any{"plan": "enterprise", "overdraft_limit": "50", "name": "Big Co",
		"spend_limit": map[string]any{"credits": "200", "mode": "soft"}, "reason": "signed the contract"})
	if r.Status != 200 || r.Str("plan") != "enterprise" || r.Str("overdraft_limit") != "50" || r.Str("name") != "Big Co" {
		t.Fatalf("patch: %d %s", r.Status, r.Raw)
	}
	if sl, _ := r.Body["spend_limit"].(map[string]any); sl["credits"] != "200" || sl["mode"] != "soft" {
		t.Fatalf("spend_limit: %s", r.Raw)
	}
	// The next request sees the plan (enterprise prices at 0.8x) and the limit.
	if e := a.api.Do("GET", "/api/v1/accounts/"+acc+"/entitlements", nil); e.Str("plan") != "enterprise" {
		t.Fatalf("entitlements after patch: %s", e.Raw)
	}
	// Suspend: usage refused with the operator's reason on the account.
	r = a.api.Do("PATCH", "/api/v1/accounts/"+acc, map[string]any{"status": "suspended", "reason": "chargebacks"})
	if r.Status != 200 || r.Str("status") != "suspended" || r.Str("status_reason") != "chargebacks" {
		t.Fatalf("suspend: %d %s", r.Status, r.Raw)
	}
	if u := a.api.Do("POST", "/api/v1/usage", flat(acc, "after-suspend")); u.Status != 403 || u.Code() != "account_suspended" || !strings.Contains(string(u.Raw), "chargebacks") {
		t.Fatalf("usage while suspended (the 403 names the operator's reason): %d %s", u.Status, u.Raw)
	}
	// spend_limit: null clears it.
	r = a.api.Do("PATCH", "/api/v1/accounts/"+acc, map[string]any{"status": "active", "spend_limit": nil, "reason": "resolved"})
	if r.Status != 200 || r.Body["spend_limit"] != nil || r.Str("status") != "active" || r.Str("status_reason") != "" {
		t.Fatalf("reinstate: %d %s", r.Status, r.Raw)
	}
	if n := a.auditCount(acc); n != 4 { // the seed grant and three changes
		t.Fatalf("%d audit entries, want 4", n)
	}
}

func TestAPIUpdateAccountRefusalsChangeNothing(t *testing.T) {
	a := newAPIEnv(t)
	acc := a.account("10", "pro")
	own := a.accountKey(acc)
	before := a.api.Do("GET", "/api/v1/accounts/"+acc, nil).Raw
	cases := []struct {
		name   string
		client *webtest.APIClient
		body   map[string]any
		status int
		code   string
		field  string
	}{
		{"account key setting a plan", own, map[string]any{"plan": "enterprise", "reason": "cheaper"}, 403, "forbidden", "plan"},
		{"account key suspending", own, map[string]any{"status": "suspended", "reason": "x"}, 403, "forbidden", "status"},
		{"account key raising its overdraft", own, map[string]any{"overdraft_limit": "100", "reason": "x"}, 403, "forbidden", "overdraft_limit"},
		{"missing reason", a.api, map[string]any{"plan": "basic"}, 400, "invalid_request", "reason"},
		{"unknown plan", a.api, map[string]any{"plan": "gold", "reason": "x"}, 400, "invalid_request", "plan"},
		{"bad status", a.api, map[string]any{"status": "closed", "reason": "x"}, 400, "invalid_request", "status"},
		{"bad mode", a.api, map[string]any{"spend_limit": map[string]any{"credits": "1", "mode": "loud"}, "reason": "x"}, 400, "invalid_request", "spend_limit_mode"},
		{"credits as a number", a.api, map[string]any{"overdraft_limit": 5, "reason": "x"}, 400, "invalid_request", "overdraft_limit"},
		{"unknown field", a.api, map[string]any{"balance": "1000", "reason": "x"}, 400, "invalid_request", "balance"},
	}
	for _, tc := range cases {
		r := tc.client.Do("PATCH", "/api/v1/accounts/"+acc, tc.body)
		fields, _ := r.Details()["fields"].(map[string]any)
		if r.Status != tc.status || r.Code() != tc.code || fields[tc.field] == nil {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Raw)
		}
	}
	if after := a.api.Do("GET", "/api/v1/accounts/"+acc, nil).Raw; string(after) != string(before) {
		t.Fatalf("refusals changed the account:\n%s\n%s", before, after)
	}
	if n := a.auditCount(acc); n != 2 {
		t.Fatalf("%d audit entries after refusals, want 2 (the seed grant and the account key)", n)
	}
	// What an account key may do: pause its own account and set its spend limit.
	r := own.Do("PATCH", "/api/v1/accounts/"+acc, map[string]any{"status": "paused", "spend_limit": map[string]any{"credits": "5", "mode": "hard"}, "reason": "holiday"})
	if r.Status != 200 || r.Str("status") != "paused" {
		t.Fatalf("account key pause: %d %s", r.Status, r.Raw)
	}
	// ... and only its own account.
	other := a.account("0", "")
	if r := own.Do("PATCH", "/api/v1/accounts/"+other, map[string]any{"status": "paused", "reason": "x"}); r.Status != 404 {
		t.Fatalf("account key on another account: %d %s", r.Status, r.Raw)
	}
}

func TestAPIRevokeGrant(t *testing.T) {
	a := newAPIEnv(t)
	acc := a.account("10", "")
	g := a.firstGrant(acc)
	path := "/api/v1/accounts/" + acc + "/grants/" + g + "/revoke"
	balance := func() string { return a.api.Do("GET", "/api/v1/accounts/"+acc+"/balance", nil).Str("balance") }

	// Refusals: nothing changes.
	for name, tc := range map[string]struct {
		client *webtest.APIClient
		body   map[string]any
		status int
		code   string
	}{
		"larger than remaining": {a.api, map[string]any{"credits": "10.001", "reason": "x", "idempotency_key": "r0"}, 400, "invalid_request"},
		"missing reason":        {a.api, map[string]any{"credits": "1", "idempotency_key": "r0"}, 400, "invalid_request"},
		"missing key":           {a.api, map[string]any{"credits": "1", "reason": "x"}, 400, "invalid_request"},
		"account key":           {a.accountKey(acc), map[string]any{"credits": "1", "reason": "x", "idempotency_key": "r0"}, 403, "forbidden"},
	} {
		if r := tc.client.Do("POST", path, tc.body); r.Status != tc.status || r.Code() != tc.code {
			t.Errorf("%s: %d %s", name, r.Status, r.Raw)
		}
	}
	if b := balance(); b != "10" {
		t.Fatalf("balance %s after refusals", b)
	}
	if r := a.api.Do("POST", "/api/v1/accounts/"+acc+"/grants/grt_nope/revoke", map[string]any{"reason": "x", "idempotency_key": "r9"}); r.Status != 404 {
		t.Fatalf("unknown grant: %d %s", r.Status, r.Raw)
	}

	r := a.api.Do("POST", path, map[string]any{"credits": "4", "reason": "promo abused", "idempotency_key": "r1"})
	if r.Status != 200 || r.Str("remaining") != "6" || r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("revoke: %d %s", r.Status, r.Raw)
	}
	again := a.api.Do("POST", path, map[string]any{"credits": "4", "reason": "promo abused", "idempotency_key": "r1"})
	if again.Status != 200 || again.Str("remaining") != "6" || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s", again.Status, again.Raw)
	}
	if c := a.api.Do("POST", path, map[string]any{"credits": "5", "reason": "promo abused", "idempotency_key": "r1"}); c.Status != 409 {
		t.Fatalf("same key, other body: %d %s", c.Status, c.Raw)
	}
	// Everything that remains, then nothing is left.
	if r := a.api.Do("POST", path, map[string]any{"reason": "closing", "idempotency_key": "r2"}); r.Status != 200 || r.Str("remaining") != "0" {
		t.Fatalf("revoke all: %d %s", r.Status, r.Raw)
	}
	if b := balance(); b != "0" {
		t.Fatalf("balance %s, want 0", b)
	}
	led := a.api.Do("GET", "/api/v1/accounts/"+acc+"/ledger?limit=1", nil)
	if e := led.Body["data"].([]any)[0].(map[string]any); e["kind"] != "revoke" || e["amount"] != "-6" || e["reason"] != "closing" {
		t.Fatalf("ledger: %s", led.Raw)
	}
}

func TestAPIAuditLog(t *testing.T) {
	a := newAPIEnv(t)
	acc := a.account("10", "")
	other := a.account("5", "")
	g := a.firstGrant(acc)
	a.api.Do("POST", "/api/v1/accounts/"+acc+"/grants/"+g+"/revoke", map[string]any{"credits": "1", "reason": "r", "idempotency_key": "k"})
	if err := a.Svc.SetPlan(context.Background(), other, "basic"); err != nil {
		t.Fatal(err)
	}
	r := a.api.Do("GET", "/api/v1/audit-log?account="+acc+"&limit=1", nil)
	data, _ := r.Body["data"].([]any)
	if r.Status != 200 || len(data) != 1 || r.Body["next_cursor"] == nil {
		t.Fatalf("page 1: %d %s", r.Status, r.Raw)
	}
	e := data[0].(map[string]any)
	actor := e["actor"].(map[string]any)
	if e["action"] != "grant.revoke" || e["account"] != acc || actor["kind"] != "api_key" || e["before"] == nil || e["request_id"] == "" {
		t.Fatalf("entry: %s", r.Raw)
	}
	r2 := a.api.Do("GET", "/api/v1/audit-log?account="+acc+"&limit=1&cursor="+r.Body["next_cursor"].(string), nil)
	if d := r2.Body["data"].([]any); len(d) != 1 || d[0].(map[string]any)["action"] != "grant.create" || r2.Body["next_cursor"] != nil {
		t.Fatalf("page 2: %s", r2.Raw)
	}
	byKey := a.api.Do("GET", "/api/v1/audit-log?actor=key:"+actor["id"].(string), nil)
	if d := byKey.Body["data"].([]any); len(d) != 3 { // two seed grants and the revoke
		t.Fatalf("by actor: %s", byKey.Raw)
	}
	for _, bad := range []string{"?actor=robot", "?cursor=zzz", "?account=acc_nope"} {
		if r := a.api.Do("GET", "/api/v1/audit-log"+bad, nil); r.Status == http.StatusOK {
			t.Errorf("%s: %d", bad, r.Status)
		}
	}
	if r := a.accountKey(acc).Do("GET", "/api/v1/audit-log", nil); r.Status != 403 {
		t.Fatalf("account key: %d %s", r.Status, r.Raw)
	}
}
