package handlers

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                             "/",
		"/":                            "/",
		"/billing":                     "/billing",
		"/usage?action=chat&x=1#row":   "/usage?action=chat&x=1#row",
		"/prices/estimate?model=a%2Fb": "/prices/estimate?model=a%2Fb",
		"//evil.example":               "/",
		"/\\evil.example":              "/",
		"\\\\evil.example":             "/",
		"/%09/evil.example":            "/",
		"/\t/evil.example":             "/",
		"/\r\n/evil.example":           "/",
		"/%0d%0a/evil.example":         "/",
		"/%2F/evil.example":            "/",
		"/%2f%2fevil.example":          "/",
		"/%5Cevil.example":             "/",
		"/%5cevil.example":             "/",
		"https://evil.example":         "/",
		"https:evil.example":           "/",
		"javascript:alert(1)":          "/",
		"evil.example":                 "/",
		" /billing":                    "/",
		"/billing\\..\\admin":          "/",
		"/%zz":                         "/",
		"/\u2028/evil.example":         "/",
		"/\x7f":                        "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSafeNext checks the property: whatever comes in, what comes out is a path on this site
// by url.Parse and by a browser's reading (which drops tabs and newlines and turns \ into /),
// as sent and once decoded.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/billing?x=1", "//evil.example", "/\\evil", "/%09/evil", "/%2F%2Fevil", "https:evil", "/a/b/../c"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://portal.example/account/")
	f.Fuzz(func(t *testing.T, in string) {
		out := safeNext(in)
		if out != "/" && out != in {
			t.Fatalf("safeNext(%q) = %q: neither the input nor /", in, out)
		}
		dec, err := url.PathUnescape(out)
		if err != nil {
			t.Fatalf("safeNext(%q) = %q does not decode: %v", in, out, err)
		}
		for _, p := range []string{out, dec} {
			browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(p)
			if !strings.HasPrefix(p, "/") || strings.HasPrefix(browser, "//") {
				t.Fatalf("safeNext(%q) = %q: not a same-origin path (%q)", in, out, p)
			}
			for _, r := range p {
				if r < 0x20 || r == 0x7f || r == '\\' {
					t.Fatalf("safeNext(%q) = %q: control character or backslash", in, out)
				}
			}
			u, err := url.Parse(p)
			if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
				t.Fatalf("safeNext(%q) = %q: url.Parse gives %#v, %v", in, out, u, err)
			}
			if r := base.ResolveReference(u); r.Host != base.Host || r.Scheme != base.Scheme {
				t.Fatalf("safeNext(%q) = %q resolves to %s", in, out, r)
			}
		}
	})
}
