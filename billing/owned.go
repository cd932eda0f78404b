package billing

// owned is the ownership check of a read by id on behalf of someone: v when the read
// succeeded and mine says v is theirs; not_found with msg when the row is missing or belongs
// to someone else (so ids of others are not confirmed); any other error unchanged, so a
// database outage stays an internal error instead of a 404.
func owned[T any](v T, err error, mine bool, msg string) (T, error) {
	var zero T
	if err != nil && ErrorCode(err) != ENotFound {
		return zero, err
	}
	if err != nil || !mine {
		return zero, &Error{Code: ENotFound, Message: msg}
	}
	return v, nil
}
