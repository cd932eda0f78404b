package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"creditline/billing"
)

func TestNewAPIError(t *testing.T) {
	field := billing.FieldError("credits", "must be a decimal string")
	limited := &billing.Error{Code: billing.ERateLimited, Message: "Slow down.", Details: map[string]any{"retry_after": 3}}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{field, `{"code":"invalid_request","message":"credits: must be a decimal string","details":{"fields":{"credits":"must be a decimal string"}}}`},
		{fmt.Errorf("wrapped: %w", limited), `{"code":"rate_limited","message":"Slow down.","details":{"retry_after":3}}`},
		{billing.Errorf(billing.ENotFound, "No account x."), `{"code":"not_found","message":"No account x."}`},
		{errors.New("pq: connection refused"), `{"code":"internal","message":"Internal error."}`},
	} {
		b, _ := json.Marshal(NewAPIError(tc.err, "Internal error."))
		if string(b) != tc.want {
			t.Errorf("%v:\n got %s\nwant %s", tc.err, b, tc.want)
		}
	}
}
