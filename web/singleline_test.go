package web_test

import (
	"net/http"
	"testing"

	"creditline/web/webtest"
)

// Names are one line: a line break or a text-direction control in an account or key name is a
// field error, so no name can forge extra lines in a page, a mail or a log.
func TestNamesAreSingleLine(t *testing.T) {
	env := webtest.Start(t)
	api := env.PlatformKey(t)
	for i, name := range []string{"Acme\nYour account is locked", "Acme\u202etxt.exe", "Acme\tInc"} {
		r := api.Do("POST", "/api/v1/accounts", map[string]any{"external_id": "one-line-" + string(rune('a'+i)), "name": name})
		if r.Status != http.StatusBadRequest || r.Code() != "invalid_request" {
			t.Errorf("account named %q: %d %s", name, r.Status, r.Raw)
		}
	}
	acc := api.Do("POST", "/api/v1/accounts", map[string]any{"external_id": "one-line-ok", "name": "Acme"}).Str("id")
	if r := api.Do("POST", "/api/v1/accounts/"+acc+"/api-keys", map[string]any{"name": "ci\nbackend"}); r.Status != http.StatusBadRequest {
		t.Errorf("key named with a line break: %d %s", r.Status, r.Raw)
	}
	if r := api.Do("PATCH", "/api/v1/accounts/"+acc, map[string]any{"name": "Acme\r\nInc", "reason": "rename"}); r.Status != http.StatusBadRequest {
		t.Errorf("rename with a line break: %d %s", r.Status, r.Raw)
	}
}
