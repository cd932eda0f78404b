package billing

import (
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password policy: at least minPasswordRunes characters, at most maxPasswordBytes bytes
// (bcrypt ignores anything longer), not a common password, not the email or its local part.
const (
	minPasswordRunes = 10
	maxPasswordBytes = 72
)

// commonPasswordList holds well-known passwords of 10 characters or more (shorter ones fail
// the length rule anyway), one a line, lower case.
//
//go:embed commonpasswords.txt
var commonPasswordList string

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 4096)
	for _, line := range strings.Split(commonPasswordList, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[strings.ToLower(line)] = struct{}{}
		}
	}
	return m
})

// IsCommonPassword reports whether pw is on the embedded list, ignoring case.
func IsCommonPassword(pw string) bool {
	_, ok := commonPasswords()[strings.ToLower(pw)]
	return ok
}

// validatePassword applies the policy to pw, reporting under field.
func validatePassword(v *Validation, field, pw, email string) {
	lower := strings.ToLower(pw)
	local, _, _ := strings.Cut(NormalizeEmail(email), "@")
	switch {
	case pw == "":
		v.Add(field, "Choose a password.")
	case utf8.RuneCountInString(pw) < minPasswordRunes:
		v.Add(field, "Use at least %d characters.", minPasswordRunes)
	case len(pw) > maxPasswordBytes:
		v.Add(field, "Use at most %d bytes.", maxPasswordBytes)
	case IsCommonPassword(pw):
		v.Add(field, "This password is too common. Choose one that is harder to guess.")
	case email != "" && (lower == NormalizeEmail(email) || lower == local):
		v.Add(field, "Do not use your email address as your password.")
	}
}

func (s *Service) hashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), s.passwordCost)
	return string(h), err
}

func checkPassword(hash, pw string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}
