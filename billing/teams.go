package billing

import (
	"context"
	"time"
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

func notYet() error { return Errorf(EInternal, "not yet") }

// CreateTeam makes a team account owned by the user (name 1-100 chars, field "name").
func (s *Service) CreateTeam(ctx context.Context, userID, name string, op Op) (Account, error) {
	return Account{}, notYet()
}

// Team returns the team page's data for the actor.
func (s *Service) Team(ctx context.Context, acc Account, actor Membership) (TeamView, error) {
	return TeamView{}, notYet()
}

// TeamUsage returns each member's credits per day over the last days.
func (s *Service) TeamUsage(ctx context.Context, acc Account, actor Membership, days int) ([]MemberUsageDay, error) {
	return nil, notYet()
}

// Invite sends the mail with the single-use link linkBase+"/invitations/"+token (7 days).
// Errors: not_found (role), invalid_request fields email/role/monthly_limit, seat cap
// (invalid_request on field "email" with a message naming the plan's seat count), already a member.
func (s *Service) Invite(ctx context.Context, acc Account, actor Membership, in InviteInput, linkBase string, op Op) (Invitation, error) {
	return Invitation{}, notYet()
}

// RevokeInvitation ends a pending invitation.
func (s *Service) RevokeInvitation(ctx context.Context, acc Account, actor Membership, invitationID string, op Op) error {
	return notYet()
}

// ResendInvitation issues a new link and expiry; the old link dies.
func (s *Service) ResendInvitation(ctx context.Context, acc Account, actor Membership, invitationID, linkBase string, op Op) (Invitation, error) {
	return Invitation{}, notYet()
}

// InvitationByToken: for the accept page; expired/used/revoked/unknown are not_found with a clear message.
func (s *Service) InvitationByToken(ctx context.Context, token string) (Invitation, error) {
	return Invitation{}, notYet()
}

// AcceptInvitation adds the membership for userID; the user's email must equal the invitation's
// (else forbidden with a message). Single use.
func (s *Service) AcceptInvitation(ctx context.Context, token, userID string, op Op) (Membership, error) {
	return Membership{}, notYet()
}

// SignUpWithInvitation creates the user (the invitation's email; the link proves it, so no
// confirmation mail), their personal account as any sign-up does, and the team membership, in
// one transaction; the invitation is used. Errors as SignUp (fields name, password) plus
// not_found for a bad token.
func (s *Service) SignUpWithInvitation(ctx context.Context, token string, in SignUpInput, op Op) (User, Membership, error) {
	return User{}, Membership{}, notYet()
}

// UpdateMember changes a member's role or monthly limit.
func (s *Service) UpdateMember(ctx context.Context, acc Account, actor Membership, memberID string, ch MemberChange, op Op) (Member, error) {
	return Member{}, notYet()
}

// RemoveMember (also a member leaving: memberID == actor.ID) revokes the member's keys on the
// account; the last owner cannot leave or be removed (invalid_request).
func (s *Service) RemoveMember(ctx context.Context, acc Account, actor Membership, memberID string, op Op) error {
	return notYet()
}

// DeleteTeam deletes a team account (owner only).
func (s *Service) DeleteTeam(ctx context.Context, acc Account, actor Membership, op Op) error {
	return notYet()
}
