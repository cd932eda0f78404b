package billing

import "unicode/utf8"

// MaxIdempotencyKey is the longest idempotency key, in bytes.
const MaxIdempotencyKey = 255

// CheckIdempotencyKey is the one rule for every idempotency key in the product (debits, usage,
// batch events, reservations, commits, grants, revokes). Keys are opaque and compared
// byte for byte: nothing is trimmed or folded, so " k" and "k" are different keys. Refused with
// invalid_request on field idempotency_key: empty, over 255 bytes, invalid UTF-8, control
// characters (C0, DEL, C1, so also NUL, tabs and newlines).
func CheckIdempotencyKey(key string) error {
	if msg := keyProblem(key); msg != "" {
		return FieldError("idempotency_key", "%s", msg)
	}
	return nil
}

// keyProblem says what is wrong with key ("" for nothing) without allocating.
func keyProblem(key string) string {
	switch {
	case key == "":
		return "Required: a unique key per request, so a retry never charges twice."
	case len(key) > MaxIdempotencyKey:
		return "Use at most 255 bytes."
	}
	for i := 0; i < len(key); {
		c := key[i]
		if c < utf8.RuneSelf { // ASCII: the common case, no decoding
			if c < 0x20 || c == 0x7f {
				return "Must not contain control characters."
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(key[i:])
		if r == utf8.RuneError && n <= 1 {
			return "Must be valid UTF-8 text."
		}
		if r >= 0x80 && r <= 0x9f {
			return "Must not contain control characters."
		}
		i += n
	}
	return ""
}
