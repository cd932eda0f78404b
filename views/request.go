// Package views holds the templ components. This file carries the per-request facts every
// page needs (CSRF token, signed-in user, current account) through the request context,
// never through package state.
package views

import (
	"context"

	"creditline/billing"
)

// Request is what the layout needs to know about the current request.
type Request struct {
	CSRF    string
	Path    string
	User    *billing.User
	Account *billing.Account
	// Unread is the current account's unread notifications (at most billing.UnreadCap), for the bell.
	Unread    int
	RequestID string
	// Asset maps a file name to its fingerprinted URL.
	Asset func(string) string
	// TestMode says payments run without Stripe keys.
	TestMode bool
	// Accounts are the signed-in user's memberships (the account switcher); Role is theirs in
	// Account. Both are empty on pages that resolve no account.
	Accounts []billing.Membership
	Role     string
}

type ctxKey struct{}

// WithRequest stores r in ctx.
func WithRequest(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// Req returns the request facts, never nil.
func Req(ctx context.Context) *Request {
	if r, ok := ctx.Value(ctxKey{}).(*Request); ok && r != nil {
		return r
	}
	return &Request{Asset: func(s string) string { return "/static/" + s }}
}

// Lookup returns the request facts stored in ctx, if any.
func Lookup(ctx context.Context) (*Request, bool) {
	r, ok := ctx.Value(ctxKey{}).(*Request)
	return r, ok && r != nil
}

// AssetURL is the fingerprinted URL of a static file.
func AssetURL(ctx context.Context, name string) string { return Req(ctx).Asset(name) }
