package billing

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// TeamAction is something a role may or may not do in an account.
type TeamAction string

// The actions of the role matrix (Can).
const (
	ActUseCredits    TeamAction = "use_credits"    // all roles
	ActViewBalance   TeamAction = "view_balance"   // all roles
	ActViewOwnUsage  TeamAction = "view_own_usage" // all roles
	ActViewAllUsage  TeamAction = "view_all_usage" // owner, admin
	ActBuy           TeamAction = "buy"            // owner, admin (packs, plans, billing page, auto-recharge)
	ActManageLimits  TeamAction = "manage_limits"  // owner, admin (account limit, pause, per-member limits, alerts)
	ActManageKeys    TeamAction = "manage_keys"    // owner, admin
	ActManageMembers TeamAction = "manage_members" // owner, admin (invite/revoke/resend, role/limit/remove of admins and members)
	ActManageOwners  TeamAction = "manage_owners"  // owner (make/remove owners)
	ActDeleteTeam    TeamAction = "delete_team"    // owner
)

// Can is the role matrix.
func Can(role string, act TeamAction) bool {
	switch act {
	case ActUseCredits, ActViewBalance, ActViewOwnUsage:
		return role == RoleOwner || role == RoleAdmin || role == RoleMember
	case ActViewAllUsage, ActBuy, ActManageLimits, ActManageKeys, ActManageMembers:
		return role == RoleOwner || role == RoleAdmin
	case ActManageOwners, ActDeleteTeam:
		return role == RoleOwner
	}
	return false
}

// Authorize returns nil or a not_found error (a member guessing an admin URL learns nothing).
func Authorize(role string, act TeamAction) error {
	if Can(role, act) {
		return nil
	}
	return Errorf(ENotFound, "Not found.")
}

// Member is one person of an account as the team page and the API show them.
type Member struct {
	ID              string     `json:"id"` // mem_...
	UserID          string     `json:"-"`
	Email           string     `json:"email"`
	Name            string     `json:"name"`
	Role            string     `json:"role"`
	MonthlyLimit    *Credits   `json:"monthly_limit"`
	SpentThisPeriod Credits    `json:"spent_this_period"`
	LastActiveAt    *time.Time `json:"last_active_at"`
	CreatedAt       time.Time  `json:"created_at"`
}

// Invitation is a pending invitation to join an account.
type Invitation struct {
	ID           string    `json:"id"` // inv_...
	AccountID    string    `json:"-"`
	AccountName  string    `json:"-"`
	Email        string    `json:"email"`
	Role         string    `json:"role"`
	MonthlyLimit *Credits  `json:"monthly_limit,omitempty"`
	ExpiresAt    time.Time `json:"expires_at"`
	CreatedAt    time.Time `json:"-"`
	InvitedBy    string    `json:"-"` // inviter's email
}

// InviteInput is what an invitation form or API call sends.
type InviteInput struct {
	Email, Role  string
	MonthlyLimit *Credits
}

// MemberChange: nil fields unchanged; ClearLimit removes the limit.
type MemberChange struct {
	Role         *string
	MonthlyLimit *Credits
	ClearLimit   bool
}

// TeamView is the team page's data.
type TeamView struct {
	Account     Account
	Actor       Member       // the viewing member
	Members     []Member     // a member role sees only themself
	Invitations []Invitation // empty for a member role
	Seats       int          // plan team_seats
	SeatsUsed   int          // members + pending invitations
}

// MemberUsageDay is one member's credits on one day (the team page chart).
type MemberUsageDay struct {
	MemberID string
	Day      time.Time
	Credits  Credits
}

// InvitationTTL is how long an invitation link stays valid.
const InvitationTTL = 7 * 24 * time.Hour

// MailInvitation is the kind of the invitation mail.
const MailInvitation = "team_invitation"

// Audit actions of teams.
const (
	AuditTeamCreate       = "team.create"
	AuditTeamDelete       = "team.delete"
	AuditInvite           = "team.invite"
	AuditInviteRevoke     = "team.invitation_revoke"
	AuditInviteResend     = "team.invitation_resend"
	AuditInviteAccept     = "team.invitation_accept"
	AuditMemberUpdate     = "team.member_update"
	AuditMemberRemove     = "team.member_remove"
	maxTeamUsageDays      = 90
	invitationTokenMaxLen = 100
)

func validRole(r string) bool { return Can(r, ActUseCredits) } // every role uses credits

func hashInvitationToken(token string) string { return hex.EncodeToString(HashToken(token)) }

// validateTeamName trims and checks a team's name (field "name").
func validateTeamName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if err := CheckText("name", name); err != nil {
		return "", err
	}
	switch {
	case name == "":
		return "", FieldError("name", "Enter a name for the team.")
	case utf8.RuneCountInString(name) > 100:
		return "", FieldError("name", "Use at most 100 characters.")
	case singleLineProblem(name) != "":
		return "", FieldError("name", "%s", singleLineProblem(name))
	}
	return name, nil
}

// CreateTeam makes a team account owned by the user (name 1-100 chars, field "name").
func (s *Service) CreateTeam(ctx context.Context, userID, name string, op Op) (Account, error) {
	name, err := validateTeamName(name)
	if err != nil {
		return Account{}, err
	}
	now := s.Now()
	a := Account{ID: NewID("acc"), Name: name, Status: StatusActive, PlanKey: "free", CreatedAt: now, IsTeam: true}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateAccount(ctx, a); err != nil {
			return err
		}
		if err := tx.MarkTeam(ctx, a.ID); err != nil {
			return err
		}
		if err := tx.InsertAlertRules(ctx, defaultAlertRules(a.ID, now)); err != nil {
			return err
		}
		if err := tx.AddMembership(ctx, Membership{ID: NewID("mem"), AccountID: a.ID, UserID: userID, Role: RoleOwner, CreatedAt: now}); err != nil {
			return err
		}
		return s.audit(ctx, tx, op, AuditTeamCreate, a.ID, "", nil, map[string]string{"name": name, "owner": userID})
	})
	return a, err
}

// Team returns the team page's data for the actor: a member role sees only themself and no
// invitations. Errors: not_found (role).
func (s *Service) Team(ctx context.Context, acc Account, actor Membership) (TeamView, error) {
	if err := Authorize(actor.Role, ActViewOwnUsage); err != nil {
		return TeamView{}, err
	}
	start, _ := SpendPeriod(acc, s.Now())
	members, err := s.store.TeamMembers(ctx, acc.ID, start)
	if err != nil {
		return TeamView{}, err
	}
	v := TeamView{Account: acc, Actor: Member{ID: actor.ID, UserID: actor.UserID, Role: actor.Role, MonthlyLimit: actor.MonthlyLimit}}
	for _, m := range members {
		if m.ID == actor.ID {
			v.Actor = m
		}
	}
	ent, err := s.Entitlements(ctx, acc)
	if err != nil {
		return TeamView{}, err
	}
	v.Seats = ent.TeamSeats
	if !Can(actor.Role, ActViewAllUsage) {
		if v.Actor.ID != "" {
			v.Members = []Member{v.Actor}
		}
		return v, nil
	}
	v.Members = members
	if v.Invitations, err = s.store.PendingInvitations(ctx, acc.ID); err != nil {
		return TeamView{}, err
	}
	v.SeatsUsed = len(members)
	now := s.Now()
	for _, in := range v.Invitations {
		if in.ExpiresAt.After(now) {
			v.SeatsUsed++
		}
	}
	return v, nil
}

// TeamUsage returns each member's credits per UTC day over the last days (1-90); a member
// role gets only their own. Errors: not_found (role).
func (s *Service) TeamUsage(ctx context.Context, acc Account, actor Membership, days int) ([]MemberUsageDay, error) {
	if err := Authorize(actor.Role, ActViewOwnUsage); err != nil {
		return nil, err
	}
	days = min(max(days, 1), maxTeamUsageDays)
	now := s.Now()
	since := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1-days)
	member := ""
	if !Can(actor.Role, ActViewAllUsage) {
		if actor.ID == "" {
			return nil, nil
		}
		member = actor.ID
	}
	return s.store.MemberUsageDays(ctx, acc.ID, member, since)
}

// mayChangeRole refuses (not_found) an actor who may not touch a member of role from, or
// make one of role to.
func mayChangeRole(actor Membership, from, to string) error {
	if err := Authorize(actor.Role, ActManageMembers); err != nil {
		return err
	}
	if from == RoleOwner || to == RoleOwner {
		return Authorize(actor.Role, ActManageOwners)
	}
	return nil
}

func checkMemberLimit(v *Validation, limit *Credits) {
	if limit != nil {
		checkCredits(v, "monthly_limit", *limit, 0)
	}
}

// Invite sends the mail with the single-use link linkBase+"/invitations/"+token (7 days).
// Errors: not_found (role), invalid_request fields email/role/monthly_limit, seat cap
// (invalid_request on field "email" with a message naming the plan's seat count), already a member.
func (s *Service) Invite(ctx context.Context, acc Account, actor Membership, in InviteInput, linkBase string, op Op) (Invitation, error) {
	if err := Authorize(actor.Role, ActManageMembers); err != nil {
		return Invitation{}, err
	}
	in.Email, in.Role = NormalizeEmail(in.Email), strings.TrimSpace(in.Role)
	var v Validation
	validateEmail(&v, in.Email)
	if !validRole(in.Role) {
		v.Add("role", "Choose owner, admin or member.")
	}
	checkMemberLimit(&v, in.MonthlyLimit)
	if err := v.Err(); err != nil {
		return Invitation{}, err
	}
	if err := mayChangeRole(actor, "", in.Role); err != nil {
		return Invitation{}, FieldError("role", "Only an owner can invite an owner.")
	}
	plan, err := s.AccountPlan(ctx, acc)
	if err != nil {
		return Invitation{}, err
	}
	now := s.Now()
	token := NewToken()
	r := InvitationRecord{Invitation: Invitation{ID: NewID("inv"), AccountID: acc.ID, AccountName: acc.Name, Email: in.Email, Role: in.Role,
		MonthlyLimit: in.MonthlyLimit, ExpiresAt: now.Add(InvitationTTL), CreatedAt: now}, InvitedByID: actor.UserID, TokenHash: hashInvitationToken(token)}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.TouchAccount(ctx, acc.ID); err != nil { // serialises the seat count
			return err
		}
		if ok, err := tx.IsMemberEmail(ctx, acc.ID, in.Email); err != nil || ok {
			if ok {
				return FieldError("email", "%s is already a member of this account.", in.Email)
			}
			return err
		}
		used, err := tx.SeatsUsed(ctx, acc.ID, now)
		if err != nil {
			return err
		}
		if used >= plan.Entitlements.TeamSeats {
			return FieldError("email", "The %s plan allows %d seats (members plus pending invitations), and all are taken. Revoke an invitation, remove a member or change plan.",
				plan.Name, plan.Entitlements.TeamSeats)
		}
		if err := tx.InsertInvitation(ctx, r); ErrorCode(err) == EConflict {
			return FieldError("email", "%s already has a pending invitation: resend it instead.", in.Email)
		} else if err != nil {
			return err
		}
		if err := s.queueMail(ctx, tx, s.invitationMail(ctx, r.Invitation, actor, linkBase+"/invitations/"+token, now)); err != nil {
			return err
		}
		return s.audit(ctx, tx, op, AuditInvite, acc.ID, "", nil, inviteSnapshot(r.Invitation))
	})
	if err != nil {
		return Invitation{}, err
	}
	return r.Invitation, nil
}

func inviteSnapshot(in Invitation) map[string]any {
	m := map[string]any{"id": in.ID, "email": in.Email, "role": in.Role, "expires_at": in.ExpiresAt}
	if in.MonthlyLimit != nil {
		m["monthly_limit"] = in.MonthlyLimit.String()
	}
	return m
}

func (s *Service) invitationMail(ctx context.Context, in Invitation, actor Membership, link string, now time.Time) Mail {
	who := "Someone"
	if actor.UserID != "" {
		if u, err := s.store.UserByID(ctx, actor.UserID); err == nil {
			who = u.Name + " (" + u.Email + ")"
		}
	} else {
		who = "The operator"
	}
	c := mailContent{Greeting: "Hello,",
		Paras:   []string{fmt.Sprintf("%s invited you to join %s on Creditline as %s %s.", who, in.AccountName, article(in.Role), in.Role)},
		Actions: []mailLink{{"Accept the invitation", link}},
		Notes: []string{fmt.Sprintf("The link works once, until %s UTC.", in.ExpiresAt.UTC().Format("2 January 2006 15:04")),
			"If you did not expect this invitation, ignore this mail: nothing happens without the link."}}
	m := c.mail(MailInvitation, in.Email, "You are invited to join "+in.AccountName+" on Creditline")
	m.CreatedAt = now
	return m
}

func article(role string) string {
	if role == RoleOwner || role == RoleAdmin {
		return "an"
	}
	return "a"
}

// closedInvitation is the not_found answer for a link that no longer works.
func closedInvitation(r InvitationRecord, now time.Time) error {
	switch {
	case r.AcceptedAt != nil:
		return Errorf(ENotFound, "This invitation was already accepted. Sign in to use the account.")
	case r.RevokedAt != nil:
		return Errorf(ENotFound, "This invitation was revoked. Ask the team for a new one.")
	case !now.Before(r.ExpiresAt):
		return Errorf(ENotFound, "This invitation has expired. Ask the team to send it again.")
	}
	return nil
}

var unknownInvitation = Errorf(ENotFound, "This invitation link is not valid. It may have been replaced by a newer one: use the latest mail.")

// pendingInvitation locks a pending invitation of the account that actor may manage.
// Errors: not_found (unknown, closed, or of a role actor may not give).
func pendingInvitation(ctx context.Context, tx Tx, accountID string, actor Membership, invitationID string) (InvitationRecord, error) {
	r, err := tx.InvitationForUpdate(ctx, accountID, invitationID, "")
	if err != nil {
		return r, err
	}
	if err := mayChangeRole(actor, "", r.Role); err != nil {
		return r, err
	}
	if r.AcceptedAt != nil || r.RevokedAt != nil {
		return r, Errorf(ENotFound, "No pending invitation %s.", invitationID)
	}
	return r, nil
}

// RevokeInvitation ends a pending invitation. Errors: not_found (role, unknown or closed id).
func (s *Service) RevokeInvitation(ctx context.Context, acc Account, actor Membership, invitationID string, op Op) error {
	if err := Authorize(actor.Role, ActManageMembers); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		r, err := pendingInvitation(ctx, tx, acc.ID, actor, invitationID)
		if err != nil {
			return err
		}
		if err := tx.CloseInvitation(ctx, r.ID, false, s.Now()); err != nil {
			return err
		}
		return s.audit(ctx, tx, op, AuditInviteRevoke, acc.ID, "", inviteSnapshot(r.Invitation), nil)
	})
}

// ResendInvitation issues a new link and expiry; the old link dies. An expired invitation
// takes a seat again. Errors: not_found (role, unknown or closed id), invalid_request (seats).
func (s *Service) ResendInvitation(ctx context.Context, acc Account, actor Membership, invitationID, linkBase string, op Op) (Invitation, error) {
	if err := Authorize(actor.Role, ActManageMembers); err != nil {
		return Invitation{}, err
	}
	plan, err := s.AccountPlan(ctx, acc)
	if err != nil {
		return Invitation{}, err
	}
	now := s.Now()
	token := NewToken()
	var out Invitation
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.TouchAccount(ctx, acc.ID); err != nil {
			return err
		}
		r, err := pendingInvitation(ctx, tx, acc.ID, actor, invitationID)
		if err != nil {
			return err
		}
		if !now.Before(r.ExpiresAt) {
			used, err := tx.SeatsUsed(ctx, acc.ID, now)
			if err != nil {
				return err
			}
			if used >= plan.Entitlements.TeamSeats {
				return FieldError("email", "The %s plan allows %d seats (members plus pending invitations), and all are taken.", plan.Name, plan.Entitlements.TeamSeats)
			}
		}
		r.ExpiresAt = now.Add(InvitationTTL)
		if err := tx.SetInvitationToken(ctx, r.ID, hashInvitationToken(token), r.ExpiresAt); err != nil {
			return err
		}
		out = r.Invitation
		if err := s.queueMail(ctx, tx, s.invitationMail(ctx, out, actor, linkBase+"/invitations/"+token, now)); err != nil {
			return err
		}
		return s.audit(ctx, tx, op, AuditInviteResend, acc.ID, "", nil, inviteSnapshot(out))
	})
	return out, err
}

// InvitationByToken: for the accept page; expired/used/revoked/unknown are not_found with a clear message.
func (s *Service) InvitationByToken(ctx context.Context, token string) (Invitation, error) {
	if token == "" || len(token) > invitationTokenMaxLen {
		return Invitation{}, unknownInvitation
	}
	r, err := s.store.InvitationByTokenHash(ctx, hashInvitationToken(token))
	if ErrorCode(err) == ENotFound {
		return Invitation{}, unknownInvitation
	}
	if err != nil {
		return Invitation{}, err
	}
	if err := closedInvitation(r, s.Now()); err != nil {
		return Invitation{}, err
	}
	return r.Invitation, nil
}

// openInvitation locks the invitation of token and checks that it still works.
func (s *Service) openInvitation(ctx context.Context, tx Tx, token string, now time.Time) (InvitationRecord, error) {
	if token == "" || len(token) > invitationTokenMaxLen {
		return InvitationRecord{}, unknownInvitation
	}
	r, err := tx.InvitationForUpdate(ctx, "", "", hashInvitationToken(token))
	if ErrorCode(err) == ENotFound {
		return InvitationRecord{}, unknownInvitation
	}
	if err != nil {
		return InvitationRecord{}, err
	}
	return r, closedInvitation(r, now)
}

// joinTeam adds the membership of an open invitation and uses it up.
func (s *Service) joinTeam(ctx context.Context, tx Tx, r InvitationRecord, u User, op Op, now time.Time) (Membership, error) {
	if err := tx.TouchAccount(ctx, r.AccountID); err != nil {
		return Membership{}, err
	}
	if ok, err := tx.IsMemberEmail(ctx, r.AccountID, u.Email); err != nil || ok {
		if ok {
			return Membership{}, Errorf(EInvalid, "You are already a member of %s.", r.AccountName)
		}
		return Membership{}, err
	}
	m := Membership{ID: NewID("mem"), AccountID: r.AccountID, AccountName: r.AccountName, UserID: u.ID, Role: r.Role, CreatedAt: now, MonthlyLimit: r.MonthlyLimit}
	if err := tx.AddMembership(ctx, m); err != nil {
		return Membership{}, err
	}
	if r.MonthlyLimit != nil {
		start, _ := SpendPeriod(Account{}, now)
		if acc, err := s.store.AccountByID(ctx, r.AccountID); err == nil {
			start, _ = SpendPeriod(acc, now)
		}
		if err := tx.UpdateMembership(ctx, r.AccountID, m.ID, m.Role, m.MonthlyLimit, &start, 0); err != nil {
			return Membership{}, err
		}
	}
	if err := tx.CloseInvitation(ctx, r.ID, true, now); err != nil {
		return Membership{}, err
	}
	if err := tx.SyncMembers(ctx, r.AccountID); err != nil {
		return Membership{}, err
	}
	after := map[string]string{"member": m.ID, "user": u.ID, "email": u.Email, "role": m.Role, "invitation": r.ID}
	return m, s.audit(ctx, tx, op, AuditInviteAccept, r.AccountID, "", nil, after)
}

// AcceptInvitation adds the membership for userID; the user's email must equal the invitation's
// (else forbidden with a message). Single use.
func (s *Service) AcceptInvitation(ctx context.Context, token, userID string, op Op) (Membership, error) {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return Membership{}, err
	}
	now := s.Now()
	var m Membership
	err = s.store.InTx(ctx, func(tx Tx) error {
		r, err := s.openInvitation(ctx, tx, token, now)
		if err != nil {
			return err
		}
		if r.Email != u.Email {
			return Errorf(EForbidden, "This invitation was sent to %s; you are signed in as %s. Sign in with the invited address.", r.Email, u.Email)
		}
		m, err = s.joinTeam(ctx, tx, r, u, op, now)
		return err
	})
	if err == nil {
		s.forgetMembers(m.AccountID)
	}
	return m, err
}

// SignUpWithInvitation creates the user (the invitation's email; the link proves it, so no
// confirmation mail), their personal account as any sign-up does, and the team membership, in
// one transaction; the invitation is used. Errors as SignUp (fields name, password) plus
// not_found for a bad token.
func (s *Service) SignUpWithInvitation(ctx context.Context, token string, in SignUpInput, op Op) (User, Membership, error) {
	now := s.Now()
	inv, err := s.InvitationByToken(ctx, token)
	if err != nil {
		return User{}, Membership{}, err
	}
	in.Email = inv.Email
	if err := validateSignUp(&in); err != nil {
		return User{}, Membership{}, err
	}
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return User{}, Membership{}, err
	}
	var u User
	var m Membership
	err = s.store.InTx(ctx, func(tx Tx) error {
		r, err := s.openInvitation(ctx, tx, token, now)
		if err != nil {
			return err
		}
		var a Account
		u, a, err = s.createUser(ctx, tx, in.Name, r.Email, hash, now)
		if ErrorCode(err) == EConflict {
			return Errorf(EInvalid, "%s already has an account: sign in to accept the invitation.", r.Email)
		}
		if err != nil {
			return err
		}
		if err := recordSignupIP(ctx, tx, a.ID, in.IP, now); err != nil {
			return err
		}
		if op.Actor.Kind == "" {
			op.Actor = UserActor(u.ID)
		}
		// A microsecond later, so the personal account stays the user's first (AccountForUser "").
		m, err = s.joinTeam(ctx, tx, r, u, op, now.Add(time.Microsecond))
		return err
	})
	if err != nil {
		return User{}, Membership{}, err
	}
	s.forgetMembers(m.AccountID)
	return u, m, nil
}

// UpdateMember changes a member's role or monthly limit. Admins cannot touch owners or make
// owners; the last owner cannot stop being one. Setting a limit recounts the member's spend
// this period. Errors: not_found (role, unknown member), invalid_request (role, monthly_limit).
func (s *Service) UpdateMember(ctx context.Context, acc Account, actor Membership, memberID string, ch MemberChange, op Op) (Member, error) {
	if err := Authorize(actor.Role, ActManageMembers); err != nil {
		return Member{}, err
	}
	var v Validation
	if ch.Role != nil && !validRole(*ch.Role) {
		v.Add("role", "Choose owner, admin or member.")
	}
	checkMemberLimit(&v, ch.MonthlyLimit)
	if err := v.Err(); err != nil {
		return Member{}, err
	}
	now := s.Now()
	var out Member
	var revoked []string
	err := s.store.InTx(ctx, func(tx Tx) error {
		revoked = nil
		if err := tx.TouchAccount(ctx, acc.ID); err != nil {
			return err
		}
		// The period is the locked account's: the caller's copy may predate a change of it.
		locked, _, err := tx.LockAccounts(ctx, []string{acc.ID})
		if err != nil {
			return err
		}
		if len(locked) == 0 {
			return Errorf(ENotFound, "No account %s.", acc.ID)
		}
		start, _ := SpendPeriod(locked[0], now)
		// One sum, of this period only, under the lock: the answer's spend and, with a limit,
		// the recounted counter.
		m, err := tx.TeamMember(ctx, acc.ID, memberID, start)
		if err != nil {
			return err
		}
		role := m.Role
		if ch.Role != nil {
			role = *ch.Role
		}
		if err := mayChangeRole(actor, m.Role, role); err != nil {
			if m.Role == RoleOwner {
				return err // an admin learns nothing about owners
			}
			return FieldError("role", "Only an owner can make an owner.")
		}
		if m.Role == RoleOwner && role != RoleOwner {
			if n, err := tx.CountOwners(ctx, acc.ID); err != nil || n <= 1 {
				if err != nil {
					return err
				}
				return FieldError("role", "An account needs an owner: make someone else owner first.")
			}
		}
		limit := m.MonthlyLimit
		switch {
		case ch.ClearLimit:
			limit = nil
		case ch.MonthlyLimit != nil:
			limit = ch.MonthlyLimit
		}
		var spent Credits
		if limit != nil {
			spent = m.SpentThisPeriod
		}
		if err := tx.UpdateMembership(ctx, acc.ID, m.ID, role, limit, &start, spent); err != nil {
			return err
		}
		// The member's account keys act with the powers of an admin (account settings, alert
		// rules, webhooks, the ledger): a member who may no longer manage keys loses them.
		if Can(m.Role, ActManageKeys) && !Can(role, ActManageKeys) {
			if revoked, err = tx.RevokeMemberKeys(ctx, acc.ID, m.ID, now); err != nil {
				return err
			}
		}
		if err := tx.SyncMembers(ctx, acc.ID); err != nil {
			return err
		}
		before := memberSnapshot(m)
		m.Role, m.MonthlyLimit = role, limit
		out = m
		after := memberSnapshot(m)
		if len(revoked) > 0 {
			after["revoked_keys"] = revoked
		}
		return s.audit(ctx, tx, op, AuditMemberUpdate, acc.ID, "", before, after)
	})
	if err != nil {
		return Member{}, err
	}
	for _, id := range revoked {
		s.forgetKey(id)
	}
	s.forgetMembers(acc.ID)
	s.forgetAccount(acc.ID)
	return out, nil
}

func memberSnapshot(m Member) map[string]any {
	out := map[string]any{"member": m.ID, "email": m.Email, "role": m.Role, "monthly_limit": nil}
	if m.MonthlyLimit != nil {
		out["monthly_limit"] = m.MonthlyLimit.String()
	}
	return out
}

// RemoveMember (also a member leaving: memberID == actor.ID) revokes the member's keys on the
// account; the last owner cannot leave or be removed (invalid_request).
func (s *Service) RemoveMember(ctx context.Context, acc Account, actor Membership, memberID string, op Op) error {
	leaving := actor.ID != "" && memberID == actor.ID
	if !leaving {
		if err := Authorize(actor.Role, ActManageMembers); err != nil {
			return err
		}
	}
	now := s.Now()
	var revoked []string
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.TouchAccount(ctx, acc.ID); err != nil {
			return err
		}
		m, err := tx.TeamMember(ctx, acc.ID, memberID, time.Time{}) // no sum: not shown
		if err != nil {
			return err
		}
		if !leaving {
			if err := mayChangeRole(actor, m.Role, ""); err != nil {
				return err
			}
		}
		if m.Role == RoleOwner {
			if n, err := tx.CountOwners(ctx, acc.ID); err != nil || n <= 1 {
				if err != nil {
					return err
				}
				if leaving {
					return Errorf(EInvalid, "You are the last owner: make someone else owner before you leave, or delete the team.")
				}
				return Errorf(EInvalid, "The last owner cannot be removed.")
			}
		}
		if err := tx.DeleteMembership(ctx, acc.ID, m.ID); err != nil {
			return err
		}
		if revoked, err = tx.RevokeMemberKeys(ctx, acc.ID, m.ID, now); err != nil {
			return err
		}
		if err := tx.SyncMembers(ctx, acc.ID); err != nil {
			return err
		}
		after := map[string]any{"revoked_keys": revoked}
		return s.audit(ctx, tx, op, AuditMemberRemove, acc.ID, "", memberSnapshot(m), after)
	})
	if err != nil {
		return err
	}
	for _, id := range revoked {
		s.forgetKey(id)
	}
	s.forgetMembers(acc.ID)
	s.forgetAccount(acc.ID)
	return nil
}

// DeleteTeam deletes a team account (owner only): only when it holds no credits, no holds, no
// debt and no live subscription, since its members would lose them (or keep paying). Its ledger stays; its memberships go, its
// pending invitations and keys are revoked. Personal accounts cannot be deleted this way.
// Errors: not_found (role), invalid_request.
func (s *Service) DeleteTeam(ctx context.Context, acc Account, actor Membership, op Op) error {
	if err := Authorize(actor.Role, ActDeleteTeam); err != nil {
		return err
	}
	if !acc.IsTeam {
		return Errorf(EInvalid, "A personal account cannot be deleted; only team accounts can.")
	}
	if sub, err := s.store.CurrentSubscription(ctx, acc.ID); err == nil && sub.Live() {
		return Errorf(EInvalid, "This team has a live subscription: cancel it on the billing page before deleting the team.")
	} else if err != nil && ErrorCode(err) != ENotFound {
		return err
	}
	now := s.Now()
	err := s.store.InTx(ctx, func(tx Tx) error {
		accs, _, err := tx.LockAccounts(ctx, []string{acc.ID})
		if err != nil {
			return err
		}
		if len(accs) == 0 {
			return Errorf(ENotFound, "No account %s.", acc.ID)
		}
		a := accs[0]
		if a.Balance != 0 || a.Reserved != 0 || a.Debt != 0 {
			return Errorf(EInvalid, "This team still holds %s credits (%s reserved, %s owed). A team can be deleted only once its balance, reservations and debt are all 0.",
				a.Balance, a.Reserved, a.Debt)
		}
		if err := tx.CloseTeam(ctx, acc.ID, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, op, AuditTeamDelete, acc.ID, "", map[string]string{"name": a.Name}, map[string]string{"closed_at": now.Format(time.RFC3339)})
	})
	if err != nil {
		return err
	}
	s.forgetKeys()
	s.forgetMembers(acc.ID)
	s.forgetAccount(acc.ID)
	return nil
}

type currentAccountKey struct{}

// InAccount scopes the billing methods that take only a user (BillingOverview, StartCheckoutIn,
// PortalURL, SaveAutoRecharge, PaymentForUser, CheckoutForUser, RechargeForUser and the test
// mode's) to one of the user's accounts: the account switcher's current one. Without it they
// act on the user's first account (their personal one).
func InAccount(ctx context.Context, accountID string) context.Context {
	return context.WithValue(ctx, currentAccountKey{}, accountID)
}

// buyerAccount is the user's billing account (InAccount's, else their first), refused as
// not_found unless their role may buy there.
func (s *Service) buyerAccount(ctx context.Context, userID string) (Account, error) {
	id, _ := ctx.Value(currentAccountKey{}).(string)
	acc, m, err := s.AccountForUser(ctx, userID, id)
	if err != nil {
		return Account{}, err
	}
	if err := Authorize(m.Role, ActBuy); err != nil {
		return Account{}, err
	}
	return acc, nil
}
