package web

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzRedactInvitationPath: whatever follows it, an invitation token (the link's alphabet) in
// the path, or in a next= parameter carrying such a path, is logged as REDACTED in its place.
func FuzzRedactInvitationPath(f *testing.F) {
	f.Add("Zm9vYmFyYmF6cXV4", "/accept")
	f.Add("abcDEF123_-xyz", "?next=/x")
	f.Add("tok", "")
	f.Fuzz(func(t *testing.T, tok, rest string) {
		if tok == "" || strings.Trim(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
			t.Skip()
		}
		if rest != "" && rest[0] != '/' && rest[0] != '?' {
			rest = "/" + rest
		}
		out := redactURI("/invitations/" + tok + rest)
		after, ok := strings.CutPrefix(out, "/invitations/REDACTED")
		if !ok || (after != "" && after[0] != '/' && after[0] != '?') {
			t.Fatalf("%q logs as %q", "/invitations/"+tok+rest, out)
		}
		out = redactURI("/login?next=" + url.QueryEscape("/invitations/"+tok+rest))
		after, ok = strings.CutPrefix(out, "/login?next=%2Finvitations%2FREDACTED")
		if !ok || (after != "" && !strings.HasPrefix(after, "%2F") && !strings.HasPrefix(after, "%3F")) {
			t.Fatalf("nested %q logs as %q", tok+rest, out)
		}
	})
}
