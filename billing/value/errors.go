package value

import (
	"errors"
	"fmt"
)

// Error codes. The JSON API uses them verbatim; web/errors.go maps each to a status.
const (
	EInvalid             = "invalid_request"
	EUnauthenticated     = "unauthenticated"
	EForbidden           = "forbidden"
	EInsufficient        = "insufficient_credits"
	ESpendLimit          = "spend_limit_reached"
	EMemberLimit         = "member_limit_reached" // a team member's monthly limit (402)
	EAccountPaused       = "account_paused"
	EAccountSuspended    = "account_suspended"
	ENotEntitled         = "feature_not_entitled"
	ENotFound            = "not_found"
	EConflict            = "conflict"
	EIdempotencyConflict = "idempotency_conflict"
	EUnknownAction       = "unknown_action"
	ERateLimited         = "rate_limited"
	EInternal            = "internal"
)

// EVerificationRequired refuses usage until the account's owner confirms their email or saves
// a card (abuse review's require_verification).
const EVerificationRequired = "verification_required"

// ErrStale is returned by a write that checks account versions when an account changed since
// it was read; nothing was written. It never reaches a client: the caller retries under locks.
var ErrStale = errors.New("billing: an account changed since it was read")

// Error is the one error type of the domain: a machine code and a message a person can read.
// Fields carries per-field messages for form and API validation errors; Details carries
// extra machine-readable facts (e.g. required/available credits).
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
	Details map[string]any
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("billing: %s: %s %v", e.Code, e.Message, e.Fields)
	}
	return fmt.Sprintf("billing: %s: %s", e.Code, e.Message)
}

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError is an invalid_request naming one field.
func FieldError(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: EInvalid, Message: field + ": " + msg, Fields: map[string]string{field: msg}}
}

// ErrorCode returns the code of an *Error in err's chain, EInternal for anything else, "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the human message of an *Error, or a generic one for unexpected errors.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// Validation collects field errors and returns them as one invalid_request.
type Validation struct{ fields map[string]string }

// Add records msg for field unless the field already has a message.
func (v *Validation) Add(field, format string, args ...any) {
	if v.fields == nil {
		v.fields = map[string]string{}
	}
	if _, ok := v.fields[field]; !ok {
		v.fields[field] = fmt.Sprintf(format, args...)
	}
}

// Err returns nil when nothing was added.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	msg := "Please correct the highlighted fields."
	if len(v.fields) == 1 {
		for f, m := range v.fields {
			msg = f + ": " + m
		}
	}
	return &Error{Code: EInvalid, Message: msg, Fields: v.fields}
}
