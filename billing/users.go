package billing

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// User logs in with email and password.
type User struct {
	ID           string    `db:"id"`
	Email        string    `db:"email"`
	Name         string    `db:"name"`
	PasswordHash string    `db:"password_hash"`
	IsAdmin      bool      `db:"is_admin"`
	CreatedAt    time.Time `db:"created_at"`
}

// Roles of a membership.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Membership joins a user to an account with a role.
type Membership struct {
	// ID is the membership's own id ("mem_..."): the member in the API and in attribution.
	ID          string    `db:"id"`
	AccountID   string    `db:"account_id"`
	AccountName string    `db:"account_name"`
	UserID      string    `db:"user_id"`
	Role        string    `db:"role"`
	CreatedAt   time.Time `db:"created_at"`
	// MonthlyLimit caps the member's spend per spend period (nil: no limit).
	MonthlyLimit *Credits `db:"monthly_limit"`
}

// PlatformCounts are totals for the admin overview.
type PlatformCounts struct {
	Users    int `db:"users"`
	Accounts int `db:"accounts"`
}

// SignUpInput is what the sign-up form sends.
type SignUpInput struct {
	Name     string
	Email    string
	Password string
	// IP is the address signing up (abuse detection keeps its network); "" when unknown.
	IP string
}

// NormalizeEmail trims and lower-cases an email address.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func validateEmail(v *Validation, email string) {
	switch {
	case email == "":
		v.Add("email", "Enter your email address.")
	case len(email) > 254:
		v.Add("email", "Email is too long.")
	case singleLineProblem(email) != "":
		v.Add("email", "%s", singleLineProblem(email))
	default:
		a, err := mail.ParseAddress(email)
		if err != nil || a.Address != email || !strings.Contains(email[strings.IndexByte(email, '@')+1:], ".") {
			v.Add("email", "Enter a valid email address, like name@example.com.")
		}
	}
}

// SignUp creates a user and their personal account (owner) at once and grants the trial
// credits: for the CLI, the demo seed and tests. The web form goes through RequestSignUp,
// which reveals nothing about existing users.
// Errors: invalid_request (fields name, email, password; email when taken).
func (s *Service) SignUp(ctx context.Context, in SignUpInput) (User, Account, error) {
	if err := validateSignUp(&in); err != nil {
		return User{}, Account{}, err
	}
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return User{}, Account{}, err
	}
	var u User
	var a Account
	err = s.store.InTx(ctx, func(tx Tx) error {
		var err error
		u, a, err = s.createUser(ctx, tx, in.Name, in.Email, hash, s.Now())
		if ErrorCode(err) == EConflict {
			return FieldError("email", "An account with this email already exists. Sign in instead.")
		}
		if err != nil {
			return err
		}
		return recordSignupIP(ctx, tx, a.ID, in.IP, s.Now())
	})
	if err != nil {
		return User{}, Account{}, err
	}
	return u, a, nil
}

// createUser writes a user, their personal account, the owner membership and the trial grant.
// Errors: conflict (email taken).
func (s *Service) createUser(ctx context.Context, tx Tx, name, email, hash string, now time.Time) (User, Account, error) {
	u := User{ID: NewID("usr"), Email: email, Name: name, PasswordHash: hash, CreatedAt: now}
	a := Account{ID: NewID("acc"), Name: name, Status: StatusActive, PlanKey: "free", CreatedAt: now}
	if err := tx.CreateUser(ctx, u); err != nil {
		return User{}, Account{}, err
	}
	if err := tx.CreateAccount(ctx, a); err != nil {
		return User{}, Account{}, err
	}
	if err := tx.InsertAlertRules(ctx, defaultAlertRules(a.ID, now)); err != nil {
		return User{}, Account{}, err
	}
	if err := tx.AddMembership(ctx, Membership{AccountID: a.ID, UserID: u.ID, Role: RoleOwner, CreatedAt: now}); err != nil {
		return User{}, Account{}, err
	}
	return u, a, s.grantTrial(ctx, tx, a.ID)
}

// dummyHash keeps sign-in timing the same whether or not the email exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not-a-real-password"), 11)

// Authenticate checks an email and password.
// Errors: unauthenticated (wrong email or password, same message for both).
func (s *Service) Authenticate(ctx context.Context, email, password string) (User, error) {
	email = NormalizeEmail(email)
	wrong := &Error{Code: EUnauthenticated, Message: "Email or password is incorrect.", Fields: map[string]string{"password": "Email or password is incorrect."}}
	if email == "" || password == "" {
		var v Validation
		if email == "" {
			v.Add("email", "Enter your email address.")
		}
		if password == "" {
			v.Add("password", "Enter your password.")
		}
		return User{}, v.Err()
	}
	u, err := s.store.UserByEmail(ctx, email)
	if ErrorCode(err) == ENotFound {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return User{}, wrong
	}
	if err != nil {
		return User{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return User{}, wrong
	}
	return u, nil
}

// User returns a user by id. Errors: not_found.
func (s *Service) User(ctx context.Context, id string) (User, error) {
	return s.store.UserByID(ctx, id)
}

// Memberships lists the accounts a user belongs to.
func (s *Service) Memberships(ctx context.Context, userID string) ([]Membership, error) {
	return s.store.MembershipsOf(ctx, userID)
}

// AccountForUser returns an account the user is a member of; any other id is not_found,
// so a guessed id reveals nothing.
func (s *Service) AccountForUser(ctx context.Context, userID, accountID string) (Account, Membership, error) {
	ms, err := s.store.MembershipsOf(ctx, userID)
	if err != nil {
		return Account{}, Membership{}, err
	}
	for _, m := range ms {
		if m.AccountID == accountID || accountID == "" {
			a, err := s.store.AccountByID(ctx, m.AccountID)
			return a, m, err
		}
	}
	return Account{}, Membership{}, Errorf(ENotFound, "No such account.")
}

// PlatformCounts returns totals for the admin overview.
func (s *Service) PlatformCounts(ctx context.Context) (PlatformCounts, error) {
	return s.store.Counts(ctx)
}

// EnsureAdmin creates a platform admin with that email and password, or promotes the
// existing user and resets their password. Errors: invalid_request.
func (s *Service) EnsureAdmin(ctx context.Context, email, password string) (User, error) {
	email = NormalizeEmail(email)
	var v Validation
	validateEmail(&v, email)
	validatePassword(&v, "password", password, email)
	if err := v.Err(); err != nil {
		return User{}, err
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && ErrorCode(err) != ENotFound {
		return User{}, err
	}
	if err == nil {
		hash, err := s.hashPassword(password)
		if err != nil {
			return User{}, err
		}
		err = s.store.InTx(ctx, func(tx Tx) error {
			if err := tx.SetAdmin(ctx, u.ID, hash); err != nil {
				return err
			}
			return tx.RevokeUserSessions(ctx, u.ID, s.Now()) // a new password ends old sessions
		})
		if err != nil {
			return User{}, err
		}
		u.IsAdmin = true
		return u, nil
	}
	name := email[:strings.IndexByte(email, '@')]
	u, _, err = s.SignUp(ctx, SignUpInput{Name: name, Email: email, Password: password})
	if err != nil {
		return User{}, err
	}
	if err := s.store.InTx(ctx, func(tx Tx) error { return tx.SetAdmin(ctx, u.ID, "") }); err != nil {
		return User{}, err
	}
	u.IsAdmin = true
	return u, nil
}
