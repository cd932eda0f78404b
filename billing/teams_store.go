package billing

import (
	"context"
	"time"
)

// InvitationRecord is an invitation with its state, as the store keeps it.
type InvitationRecord struct {
	Invitation
	InvitedByID string
	TokenHash   string
	AcceptedAt  *time.Time
	RevokedAt   *time.Time
}

// MemberRef is what attribution needs to know of a member (the per-account member cache).
type MemberRef struct {
	ID     string `db:"id"`
	UserID string `db:"user_id"`
	Email  string `db:"email"`
	Role   string `db:"role"`
}

// MemberSpend is a limited member's counter, read and written under the account's lock.
type MemberSpend struct {
	AccountID    string     `db:"account_id"`
	MemberID     string     `db:"id"`
	MonthlyLimit *Credits   `db:"monthly_limit"`
	PeriodStart  *time.Time `db:"period_start"`
	PeriodSpent  Credits    `db:"period_spent"`
	// Held is what the member's active holds on the account reserve: read with the counter
	// under the account's lock, never stored. It counts against the limit like spend does.
	Held Credits `db:"held"`
}

// TeamStore reads teams outside transactions.
type TeamStore interface {
	// TeamMembers lists an account's members, oldest first, with their usage since periodStart.
	TeamMembers(ctx context.Context, accountID string, periodStart time.Time) ([]Member, error)
	// PendingInvitations lists invitations neither accepted nor revoked (expired ones too), newest first.
	PendingInvitations(ctx context.Context, accountID string) ([]Invitation, error)
	// InvitationByTokenHash returns ENotFound for an unknown hash.
	InvitationByTokenHash(ctx context.Context, hash string) (InvitationRecord, error)
	// MemberRefs lists an account's members for attribution.
	MemberRefs(ctx context.Context, accountID string) ([]MemberRef, error)
	// MemberUsageDays sums an account's attributed usage per member and UTC day since since.
	MemberUsageDays(ctx context.Context, accountID, memberID string, since time.Time) ([]MemberUsageDay, error)
	// MemberUsageDaily is UsageDaily of the usage attributed to one member (from the events).
	MemberUsageDaily(ctx context.Context, accountID, memberID string, from, to time.Time) ([]DailyUsage, error)
	// MemberSpendOf reads a member's counter and held amount (ENotFound: no such member of the account).
	MemberSpendOf(ctx context.Context, accountID, memberID string) (MemberSpend, error)
	// TouchMembersActive sets last_active_at to at for the members (once per flush).
	TouchMembersActive(ctx context.Context, memberIDs []string, at time.Time) error
}

// TeamTx changes teams inside a transaction. The caller locks the account first (TouchAccount).
type TeamTx interface {
	// TeamMember reads one member of the account with their usage charged since since (by
	// created_at, as the counters count it); a zero since skips the sum (SpentThisPeriod 0).
	// ENotFound when the id is not one.
	TeamMember(ctx context.Context, accountID, memberID string, since time.Time) (Member, error)
	// CountOwners counts the account's owners.
	CountOwners(ctx context.Context, accountID string) (int, error)
	// SeatsUsed counts members plus pending invitations not expired at now.
	SeatsUsed(ctx context.Context, accountID string, now time.Time) (int, error)
	// IsMemberEmail says whether a user with that email belongs to the account.
	IsMemberEmail(ctx context.Context, accountID, email string) (bool, error)
	// InsertInvitation returns EConflict when a pending invitation exists for the email.
	InsertInvitation(ctx context.Context, r InvitationRecord) error
	// InvitationForUpdate locks an invitation by id (in the account) or, with id "", by token
	// hash; ENotFound when none.
	InvitationForUpdate(ctx context.Context, accountID, id, tokenHash string) (InvitationRecord, error)
	// SetInvitationToken gives a pending invitation a new token and expiry.
	SetInvitationToken(ctx context.Context, id, tokenHash string, expiresAt time.Time) error
	// CloseInvitation marks an invitation accepted (or revoked) at at.
	CloseInvitation(ctx context.Context, id string, accepted bool, at time.Time) error
	// UpdateMembership sets a member's role, limit and spend counter.
	UpdateMembership(ctx context.Context, accountID, memberID, role string, limit *Credits, periodStart *time.Time, spent Credits) error
	// DeleteMembership removes a member; ENotFound when absent.
	DeleteMembership(ctx context.Context, accountID, memberID string) error
	// RevokeMemberKeys revokes the unrevoked account keys the member created on the account.
	RevokeMemberKeys(ctx context.Context, accountID, memberID string, at time.Time) ([]string, error)
	// MemberUsageSince sums the member's usage on the account created at or after since.
	MemberUsageSince(ctx context.Context, accountID, memberID string, since time.Time) (Credits, error)
	// SyncMembers bumps members_version and recomputes member_limits (every instance drops its
	// member cache of the account).
	SyncMembers(ctx context.Context, accountID string) error
	// MemberSpends reads the counters of the listed members that have a limit, with what their
	// active holds reserve when held is true (else Held is 0: the account reserves nothing).
	MemberSpends(ctx context.Context, accountID string, memberIDs []string, held bool) ([]MemberSpend, error)
	// SetMemberSpends writes counters (the caller holds the accounts' locks).
	SetMemberSpends(ctx context.Context, ms []MemberSpend) error
	// CloseTeam marks the account closed, removes its memberships and pending invitations and
	// revokes its keys.
	CloseTeam(ctx context.Context, accountID string, at time.Time) error
	// MarkTeam flags an account as a team.
	MarkTeam(ctx context.Context, accountID string) error
}
