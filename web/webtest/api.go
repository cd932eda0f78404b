package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// APIClient calls the JSON API with a bearer key.
type APIClient struct {
	t    testing.TB
	base string
	Key  string
}

// PlatformKey creates a platform key and a client using it.
func (e *Env) PlatformKey(t testing.TB) *APIClient {
	t.Helper()
	_, raw, err := e.Svc.CreateAPIKey(context.Background(), "", "test platform key", "test")
	if err != nil {
		t.Fatal(err)
	}
	return &APIClient{t: t, base: e.URL, Key: raw}
}

// WithKey returns a client using another key.
func (a *APIClient) WithKey(key string) *APIClient { return &APIClient{t: a.t, base: a.base, Key: key} }

// Response is a decoded JSON answer.
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// Do sends body (a value to marshal, raw []byte, or nil) and decodes the JSON answer.
func (a *APIClient) Do(method, path string, body any) *Response {
	a.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, a.base+path, r)
	if a.Key != "" {
		req.Header.Set("Authorization", "Bearer "+a.Key)
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// Code is the error code of an error response ("" otherwise).
func (r *Response) Code() string {
	if e, ok := r.Body["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

// Details is the error's details object.
func (r *Response) Details() map[string]any {
	if e, ok := r.Body["error"].(map[string]any); ok {
		d, _ := e["details"].(map[string]any)
		return d
	}
	return nil
}

// Str reads a top-level string field.
func (r *Response) Str(k string) string { s, _ := r.Body[k].(string); return s }
