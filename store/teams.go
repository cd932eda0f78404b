package store

import (
	"context"
	"time"

	"creditline/billing"
)

type memberRow struct {
	ID           string           `db:"id"`
	UserID       string           `db:"user_id"`
	Email        string           `db:"email"`
	Name         string           `db:"name"`
	Role         string           `db:"role"`
	MonthlyLimit *billing.Credits `db:"monthly_limit"`
	Spent        billing.Credits  `db:"spent"`
	LastActiveAt *time.Time       `db:"last_active_at"`
	CreatedAt    time.Time        `db:"created_at"`
}

func (r memberRow) member() billing.Member {
	return billing.Member{ID: r.ID, UserID: r.UserID, Email: r.Email, Name: r.Name, Role: r.Role, MonthlyLimit: r.MonthlyLimit,
		SpentThisPeriod: r.Spent, LastActiveAt: r.LastActiveAt, CreatedAt: r.CreatedAt}
}

// memberSelect reads members with their usage since $2 by created_at (when it was charged,
// as the spend counters count it: usage_account_member_created_idx).
const memberSelect = `SELECT m.id, m.user_id, u.email, u.name, m.role, m.monthly_limit, m.last_active_at, m.created_at,
	COALESCE((SELECT sum(e.credits) FROM usage_events e WHERE e.account_id = m.account_id AND e.member_id = m.id
		AND e.member_id <> '' AND e.created_at >= $2), 0) AS spent
	FROM memberships m JOIN users u ON u.id = m.user_id`

// memberSelectNoSpend is memberSelect without the sum (spent 0; no $2).
const memberSelectNoSpend = `SELECT m.id, m.user_id, u.email, u.name, m.role, m.monthly_limit, m.last_active_at, m.created_at,
	0::bigint AS spent
	FROM memberships m JOIN users u ON u.id = m.user_id`

func (s *Store) TeamMembers(ctx context.Context, accountID string, periodStart time.Time) ([]billing.Member, error) {
	var rows []memberRow
	if err := s.db.SelectContext(ctx, &rows, memberSelect+` WHERE m.account_id = $1 ORDER BY m.created_at, m.id`, accountID, periodStart); err != nil {
		return nil, mapErr("team members", err)
	}
	out := make([]billing.Member, len(rows))
	for i, r := range rows {
		out[i] = r.member()
	}
	return out, nil
}

func (t *tx) TeamMember(ctx context.Context, accountID, memberID string, since time.Time) (billing.Member, error) {
	var r memberRow
	var err error
	if since.IsZero() {
		err = t.tx.GetContext(ctx, &r, memberSelectNoSpend+` WHERE m.account_id = $1 AND m.id = $2`, accountID, memberID)
	} else {
		err = t.tx.GetContext(ctx, &r, memberSelect+` WHERE m.account_id = $1 AND m.id = $3`, accountID, since, memberID)
	}
	return r.member(), mapErr("team member", err)
}

type invitationRow struct {
	ID           string           `db:"id"`
	AccountID    string           `db:"account_id"`
	AccountName  string           `db:"account_name"`
	Email        string           `db:"email"`
	Role         string           `db:"role"`
	MonthlyLimit *billing.Credits `db:"monthly_limit"`
	TokenHash    string           `db:"token_hash"`
	ExpiresAt    time.Time        `db:"expires_at"`
	InvitedByID  string           `db:"invited_by"`
	InvitedBy    string           `db:"inviter_email"`
	CreatedAt    time.Time        `db:"created_at"`
	AcceptedAt   *time.Time       `db:"accepted_at"`
	RevokedAt    *time.Time       `db:"revoked_at"`
}

func (r invitationRow) record() billing.InvitationRecord {
	return billing.InvitationRecord{Invitation: billing.Invitation{ID: r.ID, AccountID: r.AccountID, AccountName: r.AccountName,
		Email: r.Email, Role: r.Role, MonthlyLimit: r.MonthlyLimit, ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt, InvitedBy: r.InvitedBy},
		InvitedByID: r.InvitedByID, TokenHash: r.TokenHash, AcceptedAt: r.AcceptedAt, RevokedAt: r.RevokedAt}
}

const invitationSelect = `SELECT i.id, i.account_id, a.name AS account_name, i.email, i.role, i.monthly_limit, i.token_hash,
	i.expires_at, COALESCE(i.invited_by, '') AS invited_by, COALESCE(u.email, '') AS inviter_email, i.created_at, i.accepted_at, i.revoked_at
	FROM invitations i JOIN accounts a ON a.id = i.account_id LEFT JOIN users u ON u.id = i.invited_by`

func (s *Store) PendingInvitations(ctx context.Context, accountID string) ([]billing.Invitation, error) {
	var rows []invitationRow
	err := s.db.SelectContext(ctx, &rows, invitationSelect+` WHERE i.account_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL
		ORDER BY i.created_at DESC, i.id`, accountID)
	if err != nil {
		return nil, mapErr("pending invitations", err)
	}
	out := make([]billing.Invitation, len(rows))
	for i, r := range rows {
		out[i] = r.record().Invitation
	}
	return out, nil
}

func (s *Store) InvitationByTokenHash(ctx context.Context, hash string) (billing.InvitationRecord, error) {
	var r invitationRow
	err := s.db.GetContext(ctx, &r, invitationSelect+` WHERE i.token_hash = $1`, hash)
	return r.record(), mapErr("invitation by token", err)
}

func (t *tx) InvitationForUpdate(ctx context.Context, accountID, id, tokenHash string) (billing.InvitationRecord, error) {
	var r invitationRow
	var err error
	if id != "" {
		err = t.tx.GetContext(ctx, &r, invitationSelect+` WHERE i.id = $1 AND i.account_id = $2 FOR UPDATE OF i`, id, accountID)
	} else {
		err = t.tx.GetContext(ctx, &r, invitationSelect+` WHERE i.token_hash = $1 FOR UPDATE OF i`, tokenHash)
	}
	return r.record(), mapErr("invitation for update", err)
}

func (t *tx) InsertInvitation(ctx context.Context, r billing.InvitationRecord) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO invitations (id, account_id, email, role, monthly_limit, token_hash, expires_at, invited_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, r.ID, r.AccountID, r.Email, r.Role, r.MonthlyLimit, r.TokenHash, r.ExpiresAt, nullText(r.InvitedByID), r.CreatedAt)
	return mapErr("insert invitation", err)
}

func (t *tx) SetInvitationToken(ctx context.Context, id, tokenHash string, expiresAt time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE invitations SET token_hash = $2, expires_at = $3
		WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL`, id, tokenHash, expiresAt)
	return affected("set invitation token", res, err)
}

func (t *tx) CloseInvitation(ctx context.Context, id string, accepted bool, at time.Time) error {
	q := `UPDATE invitations SET revoked_at = $2 WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL`
	if accepted {
		q = `UPDATE invitations SET accepted_at = $2 WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL`
	}
	res, err := t.tx.ExecContext(ctx, q, id, at)
	return affected("close invitation", res, err)
}

func (t *tx) CountOwners(ctx context.Context, accountID string) (int, error) {
	var n int
	err := t.tx.GetContext(ctx, &n, `SELECT count(*) FROM memberships WHERE account_id = $1 AND role = 'owner'`, accountID)
	return n, mapErr("count owners", err)
}

func (t *tx) SeatsUsed(ctx context.Context, accountID string, now time.Time) (int, error) {
	var n int
	err := t.tx.GetContext(ctx, &n, `SELECT (SELECT count(*) FROM memberships WHERE account_id = $1)
		+ (SELECT count(*) FROM invitations WHERE account_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2)`, accountID, now)
	return n, mapErr("seats used", err)
}

func (t *tx) IsMemberEmail(ctx context.Context, accountID, email string) (bool, error) {
	var ok bool
	err := t.tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.account_id = $1 AND u.email = $2)`, accountID, email)
	return ok, mapErr("is member email", err)
}

func (t *tx) UpdateMembership(ctx context.Context, accountID, memberID, role string, limit *billing.Credits, periodStart *time.Time, spent billing.Credits) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE memberships SET role = $3, monthly_limit = $4, period_start = $5, period_spent = $6
		WHERE account_id = $1 AND id = $2`, accountID, memberID, role, limit, periodStart, spent)
	return affected("update membership", res, err)
}

func (t *tx) DeleteMembership(ctx context.Context, accountID, memberID string) error {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM memberships WHERE account_id = $1 AND id = $2`, accountID, memberID)
	return affected("delete membership", res, err)
}

func (t *tx) RevokeMemberKeys(ctx context.Context, accountID, memberID string, at time.Time) ([]string, error) {
	var ids []string
	err := t.tx.SelectContext(ctx, &ids, `UPDATE api_keys SET revoked_at = $3
		WHERE account_id = $1 AND member_id = $2 AND revoked_at IS NULL RETURNING id`, accountID, memberID, at)
	return ids, mapErr("revoke member keys", err)
}

// memberUsageSinceSQL sums a member's usage charged since $3 (usage_account_member_created_idx).
const memberUsageSinceSQL = `SELECT COALESCE(sum(credits), 0) FROM usage_events
		WHERE account_id = $1 AND member_id = $2 AND member_id <> '' AND created_at >= $3`

func (t *tx) MemberUsageSince(ctx context.Context, accountID, memberID string, since time.Time) (billing.Credits, error) {
	var c billing.Credits
	err := t.tx.GetContext(ctx, &c, memberUsageSinceSQL, accountID, memberID, since)
	return c, mapErr("member usage since", err)
}

func (t *tx) SyncMembers(ctx context.Context, accountID string) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE accounts SET members_version = members_version + 1,
		member_limits = EXISTS (SELECT 1 FROM memberships WHERE account_id = $1 AND monthly_limit IS NOT NULL) WHERE id = $1`, accountID)
	return affected("sync members", res, err)
}

// memberHeldSQL is what the active holds of membership m reserve (holds_member_active_idx).
const memberHeldSQL = `COALESCE((SELECT sum(h.amount) FROM holds h WHERE h.account_id = m.account_id AND h.member_id = m.id
	AND h.member_id <> '' AND h.status = 'active'), 0) AS held`

// memberSpendsSQL reads limited members' counters with what their active holds reserve.
const memberSpendsSQL = `SELECT m.account_id, m.id, m.monthly_limit, m.period_start, m.period_spent, ` + memberHeldSQL + `
		FROM memberships m WHERE m.account_id = $1 AND m.id = ANY($2::text[]) AND m.monthly_limit IS NOT NULL`

// memberSpendsNoHeldSQL is memberSpendsSQL for an account with no active holds.
const memberSpendsNoHeldSQL = `SELECT account_id, id, monthly_limit, period_start, period_spent FROM memberships
		WHERE account_id = $1 AND id = ANY($2::text[]) AND monthly_limit IS NOT NULL`

func (t *tx) MemberSpends(ctx context.Context, accountID string, memberIDs []string, held bool) ([]billing.MemberSpend, error) {
	var out []billing.MemberSpend
	q := memberSpendsSQL
	if !held {
		q = memberSpendsNoHeldSQL
	}
	err := t.tx.SelectContext(ctx, &out, q, accountID, textArray(memberIDs))
	return out, mapErr("member spends", err)
}

func (t *tx) SetMemberSpends(ctx context.Context, ms []billing.MemberSpend) error {
	if len(ms) == 0 {
		return nil
	}
	ids, starts, spent := make([]string, len(ms)), make([]string, len(ms)), make([]int64, len(ms))
	for i, m := range ms {
		ids[i], starts[i], spent[i] = m.MemberID, timeText(m.PeriodStart), int64(m.PeriodSpent)
	}
	_, err := t.tx.ExecContext(ctx, `UPDATE memberships m SET period_start = NULLIF(x.start, '')::timestamptz, period_spent = x.spent
		FROM unnest($1::text[], $2::text[], $3::bigint[]) AS x(id, start, spent) WHERE m.id = x.id`,
		textArray(ids), textArray(starts), int64Array(spent))
	return mapErr("set member spends", err)
}

func (t *tx) CloseTeam(ctx context.Context, accountID string, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `WITH
		k AS (UPDATE api_keys SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL),
		i AS (UPDATE invitations SET revoked_at = $2 WHERE account_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL),
		m AS (DELETE FROM memberships WHERE account_id = $1)
		UPDATE accounts SET closed_at = $2, status = 'paused', status_reason = 'team deleted', members_version = members_version + 1,
			member_limits = false WHERE id = $1`, accountID, at)
	return mapErr("close team", err)
}

func (t *tx) MarkTeam(ctx context.Context, accountID string) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE accounts SET is_team = true WHERE id = $1`, accountID)
	return affected("mark team", res, err)
}

func (s *Store) MemberRefs(ctx context.Context, accountID string) ([]billing.MemberRef, error) {
	var out []billing.MemberRef
	err := s.db.SelectContext(ctx, &out, `SELECT m.id, m.user_id, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.account_id = $1`, accountID)
	return out, mapErr("member refs", err)
}

func (s *Store) MemberUsageDays(ctx context.Context, accountID, memberID string, since time.Time) ([]billing.MemberUsageDay, error) {
	var rows []struct {
		MemberID string          `db:"member_id"`
		Day      time.Time       `db:"day"`
		Credits  billing.Credits `db:"credits"`
	}
	err := s.db.SelectContext(ctx, &rows, `SELECT member_id, date_trunc('day', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day,
		sum(credits) AS credits FROM usage_events
		WHERE account_id = $1 AND member_id <> '' AND ($2 = '' OR member_id = $2) AND occurred_at >= $3
		GROUP BY 1, 2 ORDER BY 2, 1`, accountID, memberID, since)
	if err != nil {
		return nil, mapErr("member usage days", err)
	}
	out := make([]billing.MemberUsageDay, len(rows))
	for i, r := range rows {
		out[i] = billing.MemberUsageDay{MemberID: r.MemberID, Day: r.Day.UTC(), Credits: r.Credits}
	}
	return out, nil
}

func (s *Store) TouchMembersActive(ctx context.Context, memberIDs []string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE memberships SET last_active_at = $2
		WHERE id = ANY($1::text[]) AND (last_active_at IS NULL OR last_active_at < $2)`, textArray(memberIDs), at)
	return mapErr("touch members active", err)
}

func nullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Store) MemberSpendOf(ctx context.Context, accountID, memberID string) (billing.MemberSpend, error) {
	var m billing.MemberSpend
	err := s.db.GetContext(ctx, &m, `SELECT m.account_id, m.id, m.monthly_limit, m.period_start, m.period_spent, `+memberHeldSQL+`
		FROM memberships m WHERE m.account_id = $1 AND m.id = $2`, accountID, memberID)
	return m, mapErr("member spend", err)
}

func (s *Store) MemberUsageDaily(ctx context.Context, accountID, memberID string, from, to time.Time) ([]billing.DailyUsage, error) {
	var out []billing.DailyUsage
	err := s.db.SelectContext(ctx, &out, `SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, action, model, count(*) AS events, sum(credits) AS credits
		FROM usage_events WHERE account_id = $1 AND member_id = $2 AND occurred_at >= $3::date AND occurred_at < $4::date + 1
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, accountID, memberID, from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly))
	for i := range out {
		out[i].Day = out[i].Day.UTC()
	}
	return out, mapErr("member usage daily", err)
}
