package web_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestAPIPriceBookAsCode: read the live book, change it, create a draft (bad ones refused
// naming each field), simulate it and publish it; account keys are refused.
func TestAPIPriceBookAsCode(t *testing.T) {
	a := newAPIEnv(t)
	keepCatalog(t, a.Env)
	live := a.api.Do("GET", "/api/v1/price-book", nil)
	if live.Status != 200 || live.Body["status"] != "published" {
		t.Fatalf("GET price-book: %d %s", live.Status, live.Raw)
	}
	acc := a.api.Do("POST", "/api/v1/accounts", map[string]any{"external_id": "pb-" + a.Env.URL[len(a.Env.URL)-5:], "name": "PB"})
	if r := a.accountKey(acc.Str("id")).Do("GET", "/api/v1/price-book", nil); r.Status != 403 {
		t.Errorf("account key GET price-book: %d", r.Status)
	}
	var book map[string]any
	if err := json.Unmarshal(live.Raw, &book); err != nil {
		t.Fatal(err)
	}
	rates := book["rates"].([]any)
	var gpt map[string]any
	for _, r := range rates {
		if r.(map[string]any)["id"] == "chat-gpt-4o" {
			gpt = r.(map[string]any)
		}
	}
	comps := gpt["components"].([]any)
	out := comps[1].(map[string]any)
	out["price"] = "-1" // refused
	bad := map[string]any{"id": "file-bad", "action": "file.process", "components": []any{map[string]any{"quantity": "megabytes", "per": 1,
		"tiers": []any{map[string]any{"up_to": "10", "price": "1"}, map[string]any{"up_to": "5", "price": "0.5"}, map[string]any{"price": "0.2"}}}}}
	twin := map[string]any{"id": "chat-gpt-4o-twin", "action": "chat.completion", "match": map[string]any{"model": "gpt-4o"}, "flat": "1"}
	book["rates"] = append(rates, bad, twin)
	r := a.api.Do("POST", "/api/v1/price-book/drafts", book)
	fields, _ := r.Body["error"].(map[string]any)["details"].(map[string]any)["fields"].(map[string]any)
	for _, f := range []string{"rates.chat-gpt-4o.components.output_tokens", "rates.file-bad.components.megabytes.tiers", "rates.chat-gpt-4o-twin"} {
		if r.Status != 400 || fields[f] == nil {
			t.Errorf("bad draft: %d, no field %s in %s", r.Status, f, r.Raw)
		}
	}
	out["price"] = "12"
	book["rates"] = rates
	book["note"] = "gpt-4o output +20%"
	r = a.api.Do("POST", "/api/v1/price-book/drafts", book)
	if r.Status != 201 {
		t.Fatalf("create draft: %d %s", r.Status, r.Raw)
	}
	id := int64(r.Body["id"].(float64))
	path := "/api/v1/price-book/drafts/" + itoa64(id)
	if g := a.api.Do("POST", "/api/v1/accounts/"+acc.Str("id")+"/grants", map[string]any{"credits": "10", "source": "promo", "reason": "t", "idempotency_key": "pb-grant"}); g.Status != 201 {
		t.Fatalf("grant: %d %s", g.Status, g.Raw)
	}
	if u := a.api.Do("POST", "/api/v1/usage", map[string]any{"account": acc.Str("id"), "action": "chat.completion", "attributes": map[string]any{"model": "small-open"},
		"quantities": map[string]any{}, "idempotency_key": "pb-use"}); u.Status != 201 {
		t.Fatalf("usage: %d %s", u.Status, u.Raw)
	}
	sim := a.api.Do("POST", path+"/simulate", nil)
	if sim.Status != 200 || sim.Body["events"].(float64) < 1 || sim.Body["by_action_model"] == nil {
		t.Fatalf("simulate: %d %s", sim.Status, sim.Raw)
	}
	if p := a.api.Do("POST", path+"/publish", map[string]any{"reason": "", "effective_at": time.Now().UTC().Add(time.Hour)}); p.Status != 400 {
		t.Errorf("publish without reason: %d", p.Status)
	}
	p := a.api.Do("POST", path+"/publish", map[string]any{"reason": "prices as code"})
	if p.Status != 201 || p.Body["status"] != "published" || p.Body["version"].(float64) <= live.Body["version"].(float64) {
		t.Fatalf("publish: %d %s", p.Status, p.Raw)
	}
	now := a.api.Do("GET", "/api/v1/price-book", nil)
	if now.Body["version"] != p.Body["version"] || !strings.Contains(string(now.Raw), `"price":"12"`) {
		t.Errorf("live after publish: %s", now.Raw)
	}
	if again := a.api.Do("POST", path+"/publish", map[string]any{"reason": "twice"}); again.Status != 404 {
		t.Errorf("publish twice: %d", again.Status)
	}
}

func itoa64(n int64) string { b, _ := json.Marshal(n); return string(b) }
