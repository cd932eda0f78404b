package web_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// chunked hides the length of a body, so only the reader's limit can stop it.
type chunked struct{ io.Reader }

func TestBodyAndMetadataLimits(t *testing.T) {
	ie := startInput(t, nil, nil)
	api := ie.PlatformKey(t)
	acc := api.Do("POST", "/api/v1/accounts", map[string]any{"external_id": "limits", "name": "Limits"}).Str("id")
	auth := http.Header{"Authorization": {"Bearer " + api.Key}}

	// The API: over 1 MiB, with and without a Content-Length.
	big := `{"account":"` + acc + `","metadata":{"x":"` + strings.Repeat("a", 1<<20) + `"}}`
	for name, body := range map[string]io.Reader{"length": strings.NewReader(big), "chunked": chunked{strings.NewReader(big)}} {
		st, _, out := raw(t, "POST", ie.URL+"/api/v1/usage", "application/json", body, auth)
		if st != 400 || !strings.Contains(out, `"invalid_request"`) || !strings.Contains(out, "larger than 1 MiB") {
			t.Errorf("API body over 1 MiB (%s): %d %.200s", name, st, out)
		}
	}
	// Browser forms: 64 KiB.
	form := url.Values{"email": {"a@example.com"}, "password": {strings.Repeat("p", 70<<10)}}.Encode()
	for name, body := range map[string]io.Reader{"length": strings.NewReader(form), "chunked": chunked{strings.NewReader(form)}} {
		st, _, out := raw(t, "POST", ie.URL+"/login", "application/x-www-form-urlencoded", body, nil)
		if st != 400 || !strings.Contains(out, `data-testid="error-page"`) || !strings.Contains(out, "larger than 64 KiB") {
			t.Errorf("form over 64 KiB (%s): %d %.300s", name, st, out)
		}
	}
	// Stripe webhooks: 512 KiB.
	hook := []byte(`{"id":"evt_big","type":"customer.created","data":{"object":{"x":"` + strings.Repeat("a", 600<<10) + `"}}}`)
	if st, out := signedWebhook(t, ie.URL, hook); st != 400 || !strings.Contains(out, "larger than 512 KiB") {
		t.Errorf("webhook over 512 KiB: %d %.200s", st, out)
	}

	// Metadata: keys, size, depth; whole bodies: depth; batches: 1,000 events.
	usage := func(meta string) map[string]any {
		return map[string]any{"account": acc, "action": "chat.completion", "idempotency_key": "m", "metadata": jsonRaw(meta),
			"attributes": map[string]any{"model": "small-open"}}
	}
	var keys []string
	for i := 0; i < 51; i++ {
		keys = append(keys, fmt.Sprintf(`"k%d":1`, i))
	}
	for name, meta := range map[string]string{
		"51 keys":  "{" + strings.Join(keys, ",") + "}",
		"5 KB":     `{"x":"` + strings.Repeat("a", 5000) + `"}`,
		"depth 4":  `{"a":{"b":{"c":{"d":1}}}}`,
		"an array": `[1]`,
	} {
		r := api.Do("POST", "/api/v1/usage", usage(meta))
		if r.Status != 400 || !hasField(string(r.Raw), "metadata") {
			t.Errorf("metadata %s: %d %s", name, r.Status, r.Raw)
		}
	}
	r := api.Do("POST", "/api/v1/usage/batch", map[string]any{"events": []any{usage(`{"a":{"b":{"c":{"d":1}}}}`)}})
	if res := fmt.Sprint(r.Body["results"]); r.Status != 200 || !strings.Contains(res, "events[0].metadata") {
		t.Errorf("batch event metadata: %d %s", r.Status, r.Raw)
	}
	if r := api.Do("POST", "/api/v1/usage", usage(`{"a":{"b":{"c":1}},"n":"ok"}`)); r.Status != 402 && r.Status != 201 {
		t.Errorf("metadata within bounds refused: %s", r.Raw)
	}
	deep := `{"account":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`
	if r := api.Do("POST", "/api/v1/estimate", deep); r.Status != 400 || !strings.Contains(string(r.Raw), "nests 41 levels") {
		t.Errorf("body nesting 41: %d %s", r.Status, r.Raw)
	}
	events := bytes.NewBufferString(`{"events":[`)
	for i := 0; i < 1001; i++ {
		if i > 0 {
			events.WriteByte(',')
		}
		events.WriteString(`{}`)
	}
	events.WriteString(`]}`)
	if r := api.Do("POST", "/api/v1/usage/batch", events.Bytes()); r.Status != 400 || !hasField(string(r.Raw), "events") {
		t.Errorf("1,001 events: %d %.300s", r.Status, r.Raw)
	}
}

type jsonRaw string

func (j jsonRaw) MarshalJSON() ([]byte, error) { return []byte(j), nil }
