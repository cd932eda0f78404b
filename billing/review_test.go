package billing

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// Concurrent attempts for one key get at most the free number through: each is counted
// before its password is checked.
func TestThrottleAttemptIsAtomic(t *testing.T) {
	th := NewThrottle(5, time.Second, time.Minute, time.Hour, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := 0; i < 60; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if th.Attempt("k") == 0 {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed != 5 {
		t.Fatalf("%d of 60 concurrent attempts allowed, want 5", allowed)
	}
	// An attempt given back (the password was right) frees its place.
	th2 := NewThrottle(2, time.Second, time.Minute, time.Hour, nil)
	th2.Attempt("k")
	th2.Attempt("k")
	if th2.Attempt("k") == 0 {
		t.Fatal("third attempt allowed with 2 free")
	}
	th2.Undo("k")
	if th2.Attempt("k") != 0 {
		t.Fatal("an undone attempt still counts")
	}
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"198.51.100.7":         "198.51.100.7",
		"::ffff:198.51.100.7":  "198.51.100.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
		"fe80::1%eth0":         "fe80::/64",
		"not an ip":            "not an ip",
		"::1":                  "::/64",
	} {
		if got := ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// Names and emails are single lines without bidi controls: they go into mail bodies and
// headers, and onto pages next to other text.
func TestSignUpRefusesMultiLineAndBidiNames(t *testing.T) {
	for _, tc := range []struct{ name, email, field string }{
		{"Eve\n\nClick https://evil.example", "eve@example.com", "name"},
		{"Eve\r\nBcc: x@example.com", "eve@example.com", "name"},
		{"Eve\tTab", "eve@example.com", "name"},
		{"Eve\u2028Line", "eve@example.com", "name"},
		{"Admin\u202etxt.exe", "eve@example.com", "name"},
		{"Eve\u2066x\u2069", "eve@example.com", "name"},
		{"Eve", "ev\u202ee@example.com", "email"},
	} {
		in := SignUpInput{Name: tc.name, Email: tc.email, Password: "long-enough-pw"}
		err := validateSignUp(&in)
		if be, ok := err.(*Error); !ok || be.Fields[tc.field] == "" {
			t.Errorf("%q / %q: %v, want a field error on %s", tc.name, tc.email, err, tc.field)
		}
	}
	in := SignUpInput{Name: "  Ada Lovelace ", Email: "ada@example.com", Password: "long-enough-pw"}
	if err := validateSignUp(&in); err != nil {
		t.Fatalf("a plain name refused: %v", err)
	}
}

func TestSessionKeepsAPrintableBoundedUserAgent(t *testing.T) {
	_, s := newSession("usr_1", Client{IP: "192.0.2.1", UserAgent: "Mozilla\t5.0\u0085(X11)\u202e\x7f\xff ok"}, time.Now())
	if s.UserAgent != "Mozilla5.0(X11) ok" {
		t.Errorf("user agent stored as %q", s.UserAgent)
	}
	_, s = newSession("usr_1", Client{UserAgent: strings.Repeat("é", 300)}, time.Now())
	if len(s.UserAgent) > maxUserAgent || len(s.UserAgent) < maxUserAgent-1 || !strings.HasPrefix(s.UserAgent, "é") {
		t.Errorf("long user agent stored as %d bytes", len(s.UserAgent))
	}
}
