package billing

import (
	"strings"
	"testing"
)

func TestPasswordPolicy(t *testing.T) {
	for _, c := range []struct {
		pw, email, want string
	}{
		{"", "a@example.com", "Choose a password"},
		{"nine-char", "a@example.com", "at least 10"},
		{"ééééééééé", "a@example.com", "at least 10"}, // 9 runes, 18 bytes
		{strings.Repeat("x", 73), "a@example.com", "at most 72"},
		{"Password123", "a@example.com", "too common"},
		{"QWERTYUIOP", "a@example.com", "too common"},
		{"1234567890", "a@example.com", "too common"},
		{"Jonathan.Smith", "jonathan.smith@example.com", "email"},
		{"bob@example.com", "BOB@example.com", "email"},
		{"éééééééééé", "a@example.com", ""}, // 10 runes
		{"demo-password", "demo@creditline.test", ""},
		{"admin-password", "admin@creditline.test", ""},
		{"long-enough-pw", "a@example.com", ""},
	} {
		var v Validation
		validatePassword(&v, "password", c.pw, c.email)
		got := ""
		if err, ok := v.Err().(*Error); ok {
			got = err.Fields["password"]
		}
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.pw, got, c.want)
		}
	}
}

func TestCommonPasswordListIsLoaded(t *testing.T) {
	if n := len(commonPasswords()); n < 2000 {
		t.Fatalf("%d common passwords, want a few thousand", n)
	}
	for pw := range commonPasswords() {
		if pw != strings.ToLower(pw) || len([]rune(pw)) < minPasswordRunes {
			t.Fatalf("list entry %q is not lower case or is shorter than the length rule", pw)
		}
	}
}
