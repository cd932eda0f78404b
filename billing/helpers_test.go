package billing

import (
	"errors"
	"testing"
)

// fieldsOf returns the per-field messages of an invalid_request, failing the test otherwise.
func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != EInvalid {
		t.Fatalf("err = %v, want invalid_request", err)
	}
	return e.Fields
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
