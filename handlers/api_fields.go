package handlers

import (
	"bytes"
	"encoding/json"
	"strings"

	"creditline/billing"
)

// Credits and quantities are decoded as raw JSON and parsed here, so a bad value is an
// invalid_request that names its field (encoding/json loses the field of a custom decoder's error).

// parseCredits reads a credits field: a decimal string with at most 3 decimals. nil: absent.
func parseCredits(field string, raw json.RawMessage) (*billing.Credits, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '"' {
		return nil, billing.FieldError(field, "must be a decimal string such as \"12.5\" (credits are strings in JSON, never numbers)")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, billing.FieldError(field, "must be a decimal string such as \"12.5\"")
	}
	c, err := billing.ParseCredits(s)
	if err != nil {
		return nil, billing.FieldError(field, "%v", err)
	}
	return &c, nil
}

// rawQuantities is the quantities object before parsing.
type rawQuantities map[string]json.RawMessage

// parse reads every quantity (a number or a decimal string); errors name quantities.<name>.
func (r rawQuantities) parse() (map[string]billing.Quantity, error) {
	out := make(map[string]billing.Quantity, len(r))
	var v billing.Validation
	for k, raw := range r {
		var q billing.Quantity
		if err := q.UnmarshalJSON(bytes.TrimSpace(raw)); err != nil {
			msg := strings.TrimPrefix(err.Error(), "billing: ")
			v.Add("quantities."+k, "must be a non-negative number with at most 3 decimals (%s)", msg)
			continue
		}
		out[k] = q
	}
	return out, v.Err()
}
