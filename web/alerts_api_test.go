package web_test

import (
	"strings"
	"testing"
)

// The alert-rules API: the defaults of a new account, a rule added (201) and listed, field
// errors naming the field, another account's key refused, delete, and every change audited.
func TestAPIAlertRules(t *testing.T) {
	a := newAPIEnv(t)
	acc := a.account("100", "")
	path := "/api/v1/accounts/" + acc + "/alert-rules"
	r := a.api.Do("GET", path, nil)
	if r.Status != 200 || len(r.Body["data"].([]any)) != 6 {
		t.Fatalf("defaults: %d %s", r.Status, r.Raw)
	}
	audits := a.auditCount(acc)

	r = a.api.Do("POST", path, map[string]any{"kind": "balance_below", "threshold": "12.5", "channels": []string{"in_app", "webhook"}})
	if r.Status != 201 || r.Str("kind") != "balance_below" || r.Str("threshold") != "12.5" || !strings.HasPrefix(r.Str("id"), "alr_") ||
		r.Body["enabled"] != true || r.Body["firing"] != false {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	id := r.Str("id")
	if p := a.api.Do("POST", path, map[string]any{"kind": "spend_percent", "threshold": 90, "channels": []string{"email"}}); p.Status != 201 || p.Str("threshold") != "90" {
		t.Fatalf("create with a number: %d %s", p.Status, p.Raw)
	}
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"kind": "balance_above", "threshold": "1", "channels": []string{"in_app"}}, "kind"},
		{map[string]any{"kind": "balance_below", "threshold": "1.2345", "channels": []string{"in_app"}}, "threshold"},
		{map[string]any{"kind": "balance_below_percent", "threshold": 101, "channels": []string{"in_app"}}, "threshold"},
		{map[string]any{"kind": "credits_expiring", "threshold": 0, "channels": []string{"in_app"}}, "threshold"},
		{map[string]any{"kind": "payment_failed", "threshold": 5, "channels": []string{"in_app"}}, "threshold"},
		{map[string]any{"kind": "payment_failed", "channels": []string{"sms"}}, "channels"},
		{map[string]any{"kind": "payment_failed", "channels": []string{}}, "channels"},
	} {
		p := a.api.Do("POST", path, tc.body)
		fields, _ := p.Details()["fields"].(map[string]any)
		if p.Status != 400 || fields[tc.field] == nil {
			t.Errorf("%v: %d %s, want a 400 naming %s", tc.body, p.Status, p.Raw, tc.field)
		}
	}
	other := a.account("0", "")
	if p := a.accountKey(other).Do("GET", path, nil); p.Status != 404 {
		t.Fatalf("another account's key: %d %s", p.Status, p.Raw)
	}
	if p := a.api.Do("DELETE", path+"/"+id, nil); p.Status != 204 {
		t.Fatalf("delete: %d %s", p.Status, p.Raw)
	}
	if p := a.api.Do("DELETE", path+"/"+id, nil); p.Status != 404 {
		t.Fatalf("delete again: %d %s", p.Status, p.Raw)
	}
	if p := a.api.Do("GET", path, nil); len(p.Body["data"].([]any)) != 7 {
		t.Fatalf("after delete: %s", p.Raw)
	}
	if got := a.auditCount(acc); got != audits+3 {
		t.Fatalf("audit entries %d, want %d (two creates, one delete)", got, audits+3)
	}
}
