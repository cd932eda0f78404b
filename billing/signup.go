package billing

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// SignupLinkTTL is how long the link of a sign-up mail stays valid.
const SignupLinkTTL = 24 * time.Hour

// SignupMailsPerDay bounds the sign-up mails one address receives a day, whoever asks from
// wherever (RequestSignUpWithin's limiter).
const SignupMailsPerDay = 5

// SignupRequest is a sign-up waiting for its owner to follow the emailed link. No user exists
// until then, so nobody can hold an address they do not read.
type SignupRequest struct {
	TokenHash    []byte     `db:"token_hash"`
	Email        string     `db:"email"`
	Name         string     `db:"name"`
	PasswordHash string     `db:"password_hash"`
	CreatedAt    time.Time  `db:"created_at"`
	ExpiresAt    time.Time  `db:"expires_at"`
	UsedAt       *time.Time `db:"used_at"`
}

func validateSignUp(in *SignUpInput) error {
	in.Email = NormalizeEmail(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	var v Validation
	if in.Name == "" {
		v.Add("name", "Enter your name.")
	} else if utf8.RuneCountInString(in.Name) > 100 {
		v.Add("name", "Use at most 100 characters.")
	} else if p := singleLineProblem(in.Name); p != "" {
		v.Add("name", "%s", p)
	}
	validateEmail(&v, in.Email)
	validatePassword(&v, "password", in.Password, in.Email)
	return v.Err()
}

// RequestSignUp answers the sign-up form the same way whether or not the email is
// registered: a new address gets a link to finish, a taken one gets a note that someone
// tried. linkBase is the site's URL (BASE_URL), without a trailing slash.
// Errors: invalid_request (fields name, email, password), which depend on the input only.
func (s *Service) RequestSignUp(ctx context.Context, in SignUpInput, linkBase string) error {
	return s.RequestSignUpWithin(ctx, in, linkBase, nil)
}

// RequestSignUpWithin is RequestSignUp with a per-address budget of mails (keyed by the
// normalised email; nil: none): past it the answer is the same but no mail is sent, so nobody
// can flood an inbox by rotating addresses. Errors: as RequestSignUp.
func (s *Service) RequestSignUpWithin(ctx context.Context, in SignUpInput, linkBase string, mails *Limiter) error {
	if err := validateSignUp(&in); err != nil {
		return err
	}
	// Hash in every case so the answers take the same time.
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return err
	}
	if mails != nil {
		if ok, _ := mails.Allow(in.Email); !ok {
			return nil
		}
	}
	now := s.Now()
	_, err = s.store.UserByEmail(ctx, in.Email)
	switch {
	case err == nil:
		return s.store.InTx(ctx, func(tx Tx) error { return s.queueMail(ctx, tx, signupAttemptMail(in.Email, linkBase, now)) })
	case ErrorCode(err) != ENotFound:
		return err
	}
	token := NewToken()
	req := SignupRequest{TokenHash: HashToken(token), Email: in.Email, Name: in.Name, PasswordHash: hash, CreatedAt: now, ExpiresAt: now.Add(SignupLinkTTL)}
	return s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateSignupRequest(ctx, req); err != nil {
			return err
		}
		return s.queueMail(ctx, tx, signupLinkMail(in.Email, in.Name, linkBase+"/signup/confirm?token="+token, now))
	})
}

func signupLinkMail(to, name, link string, now time.Time) Mail {
	c := mailContent{Greeting: "Hello " + name + ",",
		Paras:   []string{"follow this link to finish creating your Creditline account."},
		Actions: []mailLink{{"Finish creating your account", link}},
		Notes: []string{fmt.Sprintf("You will be asked for the password you chose. The link works once, for %d hours.", int(SignupLinkTTL.Hours())),
			"If you did not ask for an account, ignore this mail: nothing is created without the link."}}
	m := c.mail(MailSignupLink, to, "Finish creating your Creditline account")
	m.CreatedAt = now
	return m
}

func signupAttemptMail(to, linkBase string, now time.Time) Mail {
	c := mailContent{Greeting: "Hello,",
		Paras:   []string{"someone tried to create a Creditline account with this address, which already has one."},
		Actions: []mailLink{{"If it was you, sign in instead", linkBase + "/login"}},
		Notes:   []string{"If it was not you, you need do nothing: your account is unchanged."}}
	m := c.mail(MailSignupAttempt, to, "Someone tried to sign up with your address")
	m.CreatedAt = now
	return m
}

// CompleteSignUp turns a pending sign-up into a user with their personal account once the
// link's owner types the password chosen at sign-up (so following a link someone else
// requested creates nothing). The link works once.
// Errors: invalid_request (field password, or a whole-form message for a bad link).
func (s *Service) CompleteSignUp(ctx context.Context, token, password string) (User, error) {
	return s.CompleteSignUpFrom(ctx, token, password, "")
}

// AbuseTx records what abuse detection needs at sign-up.
type AbuseTx interface {
	// RecordSignupIP stores the network (NetworkKey) an account signed up from.
	RecordSignupIP(ctx context.Context, accountID, network string, at time.Time) error
	// ClearVerification lifts a pending verification (VerificationPending); false when none was.
	ClearVerification(ctx context.Context, accountID string) (bool, error)
	// RecordCheckoutIP stores the network (NetworkKey) a checkout session was opened from.
	RecordCheckoutIP(ctx context.Context, sessionID, accountID, network string, at time.Time) error
	// RecordPaymentFailure stores a failed payment once per ref (a replay adds nothing).
	RecordPaymentFailure(ctx context.Context, f PaymentFailure) error
}

// AuditVerified is the audit action of a verification that let usage resume.
const AuditVerified = "account.verified"

// clearVerification lets usage resume when the account was waiting for verification; how
// (a saved card, a confirmed email) goes to the audit log.
func (s *Service) clearVerification(ctx context.Context, tx Tx, accountID, actor, how string) error {
	ok, err := tx.ClearVerification(ctx, accountID)
	if err != nil || !ok {
		return err
	}
	s.forgetAccount(accountID)
	return s.audit(ctx, tx, Op{Actor: actorNamed(actor), Reason: "verified: " + how}, AuditVerified, accountID, "",
		map[string]string{"status_reason": VerificationPending}, map[string]string{"status_reason": ""})
}

func recordSignupIP(ctx context.Context, tx Tx, accountID, ip string, at time.Time) error {
	if n := NetworkKey(ip); n != "" {
		return tx.RecordSignupIP(ctx, accountID, n, at)
	}
	return nil
}

// CompleteSignUpFrom is CompleteSignUp from the client address ip, whose network abuse
// detection keeps (many accounts from one network). Errors: as CompleteSignUp.
func (s *Service) CompleteSignUpFrom(ctx context.Context, token, password, ip string) (User, error) {
	badLink := &Error{Code: EInvalid, Message: "This link has expired or was already used. Sign up again, or sign in if you have an account."}
	if token == "" || len(token) > 100 {
		return User{}, badLink
	}
	now := s.Now()
	var u User
	err := s.store.InTx(ctx, func(tx Tx) error {
		r, err := tx.SignupRequestForUpdate(ctx, HashToken(token))
		if ErrorCode(err) == ENotFound {
			return badLink
		}
		if err != nil {
			return err
		}
		if r.UsedAt != nil || !now.Before(r.ExpiresAt) {
			return badLink
		}
		if password == "" {
			return FieldError("password", "Enter the password you chose when you signed up.")
		}
		if !checkPassword(r.PasswordHash, password) {
			return FieldError("password", "This is not the password you chose when you signed up.")
		}
		if err := tx.UseSignupRequest(ctx, r.TokenHash, now); err != nil {
			return err
		}
		var a Account
		u, a, err = s.createUser(ctx, tx, r.Name, r.Email, r.PasswordHash, now)
		if ErrorCode(err) == EConflict {
			return &Error{Code: EInvalid, Message: "This email already has an account. Sign in instead."}
		}
		if err != nil {
			return err
		}
		return recordSignupIP(ctx, tx, a.ID, ip, now)
	})
	return u, err
}

// MailVerifyAccount is the kind of the mail that lifts a pending verification.
const MailVerifyAccount = "verify_account"

// VerifyLinkTTL is how long a verification link holds.
const VerifyLinkTTL = 24 * time.Hour

func (s *Service) verifySig(accountID, userID, exp string) string {
	mac := hmac.New(sha256.New, s.alertLinks().secret)
	mac.Write([]byte("verify|" + accountID + "|" + userID + "|" + exp))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// SendVerificationMail mails the signed-in owner or admin u a link that confirms their email
// and lets the account's usage resume (see RequireVerification). linkBase is the site's URL.
// Errors: not_found (role), invalid_request (no verification pending).
func (s *Service) SendVerificationMail(ctx context.Context, acc Account, m Membership, u User, linkBase string) error {
	if err := Authorize(m.Role, ActManageLimits); err != nil {
		return err
	}
	if !acc.NeedsVerification() {
		return Errorf(EInvalid, "This account has nothing to verify.")
	}
	now := s.Now()
	exp := strconv.FormatInt(now.Add(VerifyLinkTTL).Unix(), 10)
	token := acc.ID + "." + u.ID + "." + exp + "." + s.verifySig(acc.ID, u.ID, exp)
	body := "Hello " + u.Name + ",\n\nConfirm that this is your address and usage of " + acc.Name +
		" resumes:\n\n" + linkBase + "/account/verify?token=" + token + "\n\nThe link works for 24 hours, signed in as " + u.Email + ".\n"
	return s.store.InTx(ctx, func(tx Tx) error {
		return s.queueMail(ctx, tx, Mail{Kind: MailVerifyAccount, To: u.Email, Subject: "Confirm your email to resume usage",
			Body: body, CreatedAt: now})
	})
}

// ConfirmVerification reads a verification link followed by the signed-in user userID and
// lifts the account's pending verification (audited as that user). Errors: not_found for a
// link that is malformed, forged, expired or mailed to someone else (all alike).
func (s *Service) ConfirmVerification(ctx context.Context, token, userID string) (string, error) {
	bad := Errorf(ENotFound, "This verification link is not valid, has expired, or was sent to another user: ask for a new one.")
	p := strings.Split(token, ".")
	if len(p) != 4 || p[1] != userID || !hmac.Equal([]byte(p[3]), []byte(s.verifySig(p[0], p[1], p[2]))) {
		return "", bad
	}
	exp, err := strconv.ParseInt(p[2], 10, 64)
	if err != nil || !s.Now().Before(time.Unix(exp, 0)) {
		return "", bad
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		return s.clearVerification(ctx, tx, p[0], "user:"+userID, "email confirmed")
	})
	return p[0], err
}
