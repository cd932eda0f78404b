package handlers

import (
	"errors"
	"maps"

	"creditline/billing"
)

// APIError is the JSON API's error object (SPEC section 4), sent as {"error": APIError} and
// inside each failed batch result.
type APIError struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// NewAPIError is the one builder of the JSON error object: a domain error's code, message and
// details, its field messages under details.fields; anything else is code internal with the
// message fallback, so an unexpected error's text never reaches a client.
func NewAPIError(err error, fallback string) *APIError {
	var be *billing.Error
	if !errors.As(err, &be) {
		return &APIError{Code: billing.EInternal, Message: fallback}
	}
	e := &APIError{Code: be.Code, Message: be.Message}
	if len(be.Details) > 0 || len(be.Fields) > 0 {
		e.Details = make(map[string]any, len(be.Details)+1)
		maps.Copy(e.Details, be.Details)
		if len(be.Fields) > 0 {
			e.Details["fields"] = be.Fields
		}
	}
	return e
}
