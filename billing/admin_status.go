package billing

import "strings"

// SuspendedError is the 403 answer for usage on a suspended account: it carries the
// operator's reason (the customer sees it) in the message and in details.reason.
func SuspendedError(a Account) error {
	msg := "This account is suspended; usage is refused. Contact support."
	if a.StatusReason != "" {
		msg = "This account is suspended: " + strings.TrimRight(a.StatusReason, ".") + ". Usage is refused; contact support."
	}
	return &Error{Code: EAccountSuspended, Message: msg, Details: map[string]any{"reason": a.StatusReason}}
}
