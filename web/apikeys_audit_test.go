package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"creditline/billing"
	"creditline/web/webtest"
)

// keyAudit lists the account's api_key.* audit entries, oldest first.
func keyAudit(t *testing.T, env *webtest.Env, accountID string) []billing.AuditEntry {
	t.Helper()
	p, err := env.Svc.AuditLog(context.Background(), billing.AuditFilter{AccountID: accountID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []billing.AuditEntry
	for i := len(p.Entries) - 1; i >= 0; i-- {
		if strings.HasPrefix(p.Entries[i].Action, "api_key.") {
			out = append(out, p.Entries[i])
		}
	}
	return out
}

// TestAccountKeysAreAudited: a customer creating and revoking a key in the portal, and an
// operator creating one through the API, each write one audit entry naming the actor and the
// key (never its secret); a refused create or revoke writes none.
func TestAccountKeysAreAudited(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	demo := seedDemo(t, env)
	u, err := env.Store.UserByEmail(ctx, "demo@creditline.test")
	if err != nil {
		t.Fatal(err)
	}
	base := len(keyAudit(t, env, demo.ID))
	since := func() []billing.AuditEntry { return keyAudit(t, env, demo.ID)[base:] }

	c := signedIn(t, env, "demo@creditline.test")
	if p := c.Submit("/api-keys", "/api-keys", url.Values{"name": {"  "}}); p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("nameless key: %d", p.Status)
	}
	if es := since(); len(es) != 0 {
		t.Fatalf("a refused create was audited: %+v", es)
	}
	p := c.Submit("/api-keys", "/api-keys", url.Values{"name": {"audited ci"}})
	secret := strings.TrimSpace(p.Doc.Find(`[data-testid="new-key-secret"]`).Text())
	if p.Status != http.StatusOK || !strings.HasPrefix(secret, "ak_") {
		t.Fatalf("create: %d %q", p.Status, secret)
	}
	es := since()
	if len(es) != 1 || es[0].Action != billing.AuditKeyCreate || es[0].Actor() != billing.UserActor(u.ID) || es[0].Before != nil {
		t.Fatalf("portal create audit: %+v", es)
	}
	after := string(es[0].After)
	keys, err := env.Svc.APIKeys(ctx, demo.ID)
	if err != nil {
		t.Fatal(err)
	}
	var key billing.APIKey
	for _, k := range keys {
		if k.Name == "audited ci" {
			key = k
		}
	}
	if !strings.Contains(after, key.ID) || !strings.Contains(after, "audited ci") || strings.Contains(after, secret) || strings.Contains(after, key.Hash) {
		t.Fatalf("create snapshot %s (key %s)", after, key.ID)
	}

	if r := c.Submit("/api-keys", "/api-keys/"+key.ID+"/revoke", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.Status)
	}
	if r := c.Submit("/api-keys", "/api-keys/"+key.ID+"/revoke", url.Values{}); r.Status != http.StatusNotFound {
		t.Fatalf("revoke again: %d", r.Status)
	}
	es = since()
	if len(es) != 2 || es[1].Action != billing.AuditKeyRevoke || es[1].Actor() != billing.UserActor(u.ID) ||
		!strings.Contains(string(es[1].Before), `"revoked": false`) || !strings.Contains(string(es[1].After), `"revoked": true`) {
		t.Fatalf("portal revoke audit: %+v", es)
	}

	api := env.PlatformKey(t)
	if r := api.Do(http.MethodPost, "/api/v1/accounts/"+demo.ID+"/api-keys", map[string]any{"name": ""}); r.Status < 400 {
		t.Fatalf("nameless API key: %d", r.Status)
	}
	if es := since(); len(es) != 2 {
		t.Fatalf("a refused API create was audited: %+v", es[2:])
	}
	r := api.Do(http.MethodPost, "/api/v1/accounts/"+demo.ID+"/api-keys", map[string]any{"name": "by operator"})
	if r.Status != http.StatusCreated {
		t.Fatalf("API create: %d %s", r.Status, r.Raw)
	}
	es = since()
	if len(es) != 3 || es[2].Action != billing.AuditKeyCreate || es[2].ActorKind != billing.ActorAPIKey || es[2].ActorID == "" ||
		!strings.Contains(string(es[2].After), r.Str("id")) || strings.Contains(string(es[2].After), r.Str("key")) {
		t.Fatalf("API create audit: %+v", es)
	}
}
