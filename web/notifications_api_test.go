package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"creditline/web/webtest"
)

// TestAPINotificationsPaginated: newest first, cursor pages that cover every notification
// once, fields as the OpenAPI Notification schema declares them; another account is a 404 to
// an account key, and a cursor it did not issue is a 400.
func TestAPINotificationsPaginated(t *testing.T) {
	env := webtest.Start(t)
	ctx := context.Background()
	_, _, acc := limitsCustomer(t, env, "notes-api@example.com")
	_, _, other := limitsCustomer(t, env, "notes-api-other@example.com")
	ids := addNotifications(t, env, acc.ID, 5)
	addNotifications(t, env, other.ID, 2)
	if _, err := env.Store.MarkNotificationRead(ctx, acc.ID, ids[4], env.Svc.Now()); err != nil {
		t.Fatal(err)
	}
	_, raw, err := env.Svc.CreateAPIKey(ctx, acc.ID, "notes key", "test")
	if err != nil {
		t.Fatal(err)
	}
	own := env.PlatformKey(t).WithKey(raw)

	schema := loadDocument(t)["components"].(map[string]any)["schemas"].(map[string]any)["Notification"].(map[string]any)
	props := schema["properties"].(map[string]any)
	var got []float64
	path := "/api/v1/accounts/" + acc.ID + "/notifications?limit=2"
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("pagination does not end")
		}
		r := own.Do("GET", path, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Raw)
		}
		var page struct {
			Data       []map[string]any `json:"data"`
			NextCursor *string          `json:"next_cursor"`
		}
		if err := json.Unmarshal(r.Raw, &page); err != nil {
			t.Fatal(err)
		}
		if _, ok := r.Body["next_cursor"]; !ok {
			t.Fatal("next_cursor missing (null on the last page)")
		}
		for _, n := range page.Data {
			for k := range n {
				if props[k] == nil {
					t.Errorf("field %q is not in the documented Notification schema", k)
				}
			}
			for _, req := range schema["required"].([]any) {
				if _, ok := n[req.(string)]; !ok {
					t.Errorf("required field %q missing from %v", req, n)
				}
			}
			got = append(got, n["id"].(float64))
			if n["id"].(float64) == float64(ids[4]) && n["read_at"] == nil {
				t.Errorf("the read notification has no read_at: %v", n)
			}
			if n["id"].(float64) == float64(ids[3]) && (n["read_at"] != nil || n["type"] != "auto_recharge") {
				t.Errorf("notification %v", n)
			}
		}
		path = ""
		if page.NextCursor != nil {
			path = "/api/v1/accounts/" + acc.ID + "/notifications?limit=2&cursor=" + *page.NextCursor
		}
	}
	want := []float64{float64(ids[4]), float64(ids[3]), float64(ids[2]), float64(ids[1]), float64(ids[0])}
	if !slices.Equal(got, want) {
		t.Fatalf("ids %v, want newest first %v", got, want)
	}

	if r := own.Do("GET", "/api/v1/accounts/"+other.ID+"/notifications", nil); r.Status != http.StatusNotFound {
		t.Errorf("another account's notifications: %d", r.Status)
	}
	if r := own.Do("GET", "/api/v1/accounts/"+acc.ID+"/notifications?cursor=bogus", nil); r.Status != http.StatusBadRequest || r.Code() != "invalid_request" {
		t.Errorf("a bad cursor: %d %s", r.Status, r.Raw)
	}
	if r := env.PlatformKey(t).Do("GET", "/api/v1/accounts/"+other.ID+"/notifications", nil); r.Status != http.StatusOK {
		t.Errorf("a platform key: %d", r.Status)
	}
}
