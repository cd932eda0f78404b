package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"creditline/billing"
	"github.com/labstack/echo/v4"
)

// decodeBody runs a body through the API's real decoder, behind the server's 1 MiB limit.
func decodeBody(t *testing.T, body []byte, v any) error {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/usage", bytes.NewReader(body))
	req.Body = http.MaxBytesReader(rec, req.Body, 1<<20)
	_, err := decode(echo.New().NewContext(req, rec), v)
	return err
}

// refusal fails unless err is an invalid_request: bad input is never a 500.
func refusal(t *testing.T, body []byte, err error) {
	var be *billing.Error
	if !errors.As(err, &be) || be.Code != billing.EInvalid {
		t.Fatalf("body %q: %v (%T), want invalid_request", body, err, err)
	}
}

// accepted checks that every text a decoded request carries would be stored by PostgreSQL.
func accepted(t *testing.T, body []byte, r actionRequest) {
	for f, s := range map[string]string{"account": r.Account, "action": r.Action} {
		if err := billing.CheckText(f, s); err != nil {
			t.Fatalf("body %q: accepted %s: %v", body, f, err)
		}
	}
	for k, v := range r.Attributes {
		if billing.CheckText("k", k) != nil || billing.CheckText("v", v) != nil {
			t.Fatalf("body %q: accepted attribute %q=%q", body, k, v)
		}
	}
}

var usageSeeds = []string{
	`{"account":"acc_1","action":"chat.completion","idempotency_key":"k1","attributes":{"model":"gpt-4o"},"quantities":{"input_tokens":1000,"output_tokens":"12.5"}}`,
	`{"account":"external:x","action":"a","idempotency_key":"k","occurred_at":"2026-01-01T00:00:00Z","metadata":{"a":{"b":{"c":1}}}}`,
	`{"account":"a\u0000","action":"x","idempotency_key":"k"}`,
	`{"metadata":{"n":"\ud800"}}`,
	`{"metadata":[[[[[1]]]]]}`,
	`{"quantities":{"q":-1}}`,
	`{"quantities":{"q":1e400}}`,
	`{"account":5}`,
	`[]`,
	`null`,
}

func FuzzUsageBody(f *testing.F) {
	for _, s := range usageSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req usageRequest
		err := decodeBody(t, body, &req)
		if err == nil {
			_, err = req.validate()
		}
		if err != nil {
			refusal(t, body, err)
			return
		}
		accepted(t, body, req.actionRequest)
		if billing.CheckText("idempotency_key", req.IdempotencyKey) != nil || len(req.IdempotencyKey) > 255 {
			t.Fatalf("body %q: accepted idempotency key %q", body, req.IdempotencyKey)
		}
		if billing.CheckMetadata(req.Metadata) != nil || billing.CheckJSONText(req.Metadata) != nil {
			t.Fatalf("body %q: accepted metadata %s", body, req.Metadata)
		}
		if len(req.Metadata) > 0 && !json.Valid(req.Metadata) {
			t.Fatalf("body %q: accepted invalid metadata", body)
		}
	})
}

func FuzzEstimateBody(f *testing.F) {
	for _, s := range usageSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"account":"acc_1","action":"image.generate","quantities":{"images":2},"batch":true}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req estimateRequest
		err := decodeBody(t, body, &req)
		if err == nil {
			_, err = req.validate()
		}
		if err != nil {
			refusal(t, body, err)
			return
		}
		accepted(t, body, req.actionRequest)
	})
}

var teamSeeds = []string{
	`{"email":"ada@example.com","role":"member","monthly_limit":"50"}`,
	`{"email":"ada@example.com","role":"owner"}`,
	`{"role":"admin","monthly_limit":null}`,
	`{"monthly_limit":"12.125"}`,
	`{"monthly_limit":5}`,
	`{"monthly_limit":"-1"}`,
	`{"monthly_limit":"1e9"}`,
	`{"role":"a\u0000"}`,
	`{}`,
	`null`,
}

// FuzzTeamBodies: the invitation and member-change bodies are refused with invalid_request or
// decoded into text PostgreSQL stores and a limit that is a valid credit amount.
func FuzzTeamBodies(f *testing.F) {
	for _, s := range teamSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var inv invitationRequest
		if err := decodeBody(t, body, &inv); err != nil {
			refusal(t, body, err)
		} else if billing.CheckText("email", inv.Email) != nil || billing.CheckText("role", inv.Role) != nil {
			t.Fatalf("body %q: accepted invitation text", body)
		}
		var p memberPatch
		err := decodeBody(t, body, &p)
		var ch billing.MemberChange
		if err == nil {
			ch, err = p.change()
		}
		if err != nil {
			refusal(t, body, err)
			return
		}
		if ch.Role != nil && billing.CheckText("role", *ch.Role) != nil {
			t.Fatalf("body %q: accepted role %q", body, *ch.Role)
		}
		if ch.MonthlyLimit != nil && ch.ClearLimit {
			t.Fatalf("body %q: both sets and clears the limit", body)
		}
	})
}
