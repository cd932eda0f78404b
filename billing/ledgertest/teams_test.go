package ledgertest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"creditline/billing"
	"creditline/migrations"
)

// team is a team account on the Pro plan (5 seats) with its owner, on a seeded catalog.
type team struct {
	e     *env
	ctx   context.Context
	owner billing.User
	om    billing.Membership
	acc   billing.Account
}

func newTeam(t *testing.T, e *env, plan string) *team {
	t.Helper()
	ctx := context.Background()
	if err := e.svc.SeedCatalog(ctx); err != nil {
		t.Fatal(err)
	}
	u, _, err := e.svc.SignUp(ctx, billing.SignUpInput{Name: "Owner", Email: key() + "@example.com", Password: "long-enough-pw"})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := e.svc.CreateTeam(ctx, u.ID, "Team "+key(), billing.Op{Actor: billing.UserActor(u.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`UPDATE accounts SET plan_key = $2 WHERE id = $1`, acc.ID, plan); err != nil {
		t.Fatal(err)
	}
	e.svc.ForgetAccount(acc.ID, 0)
	tm := &team{e: e, ctx: ctx, owner: u}
	tm.refresh(t)
	_, tm.om, err = e.svc.AccountForUser(ctx, u.ID, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func (tm *team) refresh(t *testing.T) {
	t.Helper()
	var err error
	if tm.acc.ID == "" {
		ms, err := tm.e.svc.Memberships(tm.ctx, tm.owner.ID)
		if err != nil || len(ms) != 2 {
			t.Fatalf("memberships: %v %v", ms, err)
		}
		tm.acc.ID = ms[1].AccountID
	}
	if tm.acc, _, err = tm.e.svc.AccountForUser(tm.ctx, tm.owner.ID, tm.acc.ID); err != nil {
		t.Fatal(err)
	}
}

var linkToken = regexp.MustCompile(`/invitations/([A-Za-z0-9_-]+)`)

// lastLink is the token of the newest invitation mail sent to email.
func (tm *team) lastLink(t *testing.T, email string) string {
	t.Helper()
	mail, err := tm.e.svc.Outbox(tm.ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mail { // newest first
		if m.To == email && m.Kind == billing.MailInvitation {
			if g := linkToken.FindStringSubmatch(m.Body); g != nil {
				return g[1]
			}
		}
	}
	t.Fatalf("no invitation mail to %s", email)
	return ""
}

// join invites a new person with role and signs them up through the link.
func (tm *team) join(t *testing.T, role string, limit *billing.Credits) (billing.User, billing.Membership) {
	t.Helper()
	email := key() + "@example.com"
	if _, err := tm.e.svc.Invite(tm.ctx, tm.acc, tm.om, billing.InviteInput{Email: email, Role: role, MonthlyLimit: limit}, "https://portal.test", tm.op()); err != nil {
		t.Fatal(err)
	}
	u, m, err := tm.e.svc.SignUpWithInvitation(tm.ctx, tm.lastLink(t, email), billing.SignUpInput{Name: role, Password: "long-enough-pw"}, billing.Op{})
	if err != nil {
		t.Fatal(err)
	}
	tm.refresh(t)
	return u, m
}

func (tm *team) op() billing.Op { return billing.Op{Actor: billing.UserActor(tm.owner.ID)} }

func code(err error) string { return billing.ErrorCode(err) }

func credits(s string) *billing.Credits { c := billing.MustCredits(s); return &c }

// newTeamEnv runs the jobs its test queued (mail) at the end: the package shares one database.
func newTeamEnv(t *testing.T) *env {
	e := alertEnv(t, billing.Options{PasswordCost: 4})
	e.clock.Advance(24 * time.Hour)
	return e
}

// TestRoleMatrix: every role against every action, allowed and refused, as a table over Can,
// and as real calls of the service methods each action guards.
func TestRoleMatrix(t *testing.T) {
	all := []billing.TeamAction{billing.ActUseCredits, billing.ActViewBalance, billing.ActViewOwnUsage, billing.ActViewAllUsage,
		billing.ActBuy, billing.ActManageLimits, billing.ActManageKeys, billing.ActManageMembers, billing.ActManageOwners, billing.ActDeleteTeam}
	allowed := map[string]map[billing.TeamAction]bool{
		billing.RoleOwner: {billing.ActUseCredits: true, billing.ActViewBalance: true, billing.ActViewOwnUsage: true, billing.ActViewAllUsage: true,
			billing.ActBuy: true, billing.ActManageLimits: true, billing.ActManageKeys: true, billing.ActManageMembers: true,
			billing.ActManageOwners: true, billing.ActDeleteTeam: true},
		billing.RoleAdmin: {billing.ActUseCredits: true, billing.ActViewBalance: true, billing.ActViewOwnUsage: true, billing.ActViewAllUsage: true,
			billing.ActBuy: true, billing.ActManageLimits: true, billing.ActManageKeys: true, billing.ActManageMembers: true},
		billing.RoleMember: {billing.ActUseCredits: true, billing.ActViewBalance: true, billing.ActViewOwnUsage: true},
		"":                 {},
		"stranger":         {},
	}
	for role, want := range allowed {
		for _, act := range all {
			if got := billing.Can(role, act); got != want[act] {
				t.Errorf("Can(%q, %s) = %v, want %v", role, act, got, want[act])
			}
			if err := billing.Authorize(role, act); (err == nil) != want[act] || (err != nil && code(err) != billing.ENotFound) {
				t.Errorf("Authorize(%q, %s) = %v", role, act, err)
			}
		}
	}

	e := newTeamEnv(t)
	tm := newTeam(t, e, "pro")
	_, admin := tm.join(t, billing.RoleAdmin, nil)
	_, member := tm.join(t, billing.RoleMember, nil)
	ctx := tm.ctx
	// Each call exercises one action as one role; refusals are not_found and change nothing.
	calls := map[billing.TeamAction]func(m billing.Membership) error{
		billing.ActViewAllUsage: func(m billing.Membership) error {
			v, err := e.svc.Team(ctx, tm.acc, m)
			if err == nil && len(v.Members) != 3 {
				return billing.Errorf(billing.ENotFound, "sees %d members", len(v.Members))
			}
			return err
		},
		billing.ActManageLimits: func(m billing.Membership) error {
			_, err := e.svc.SetCustomerSpendLimit(ctx, tm.acc, m.Role, billing.SpendLimitChange{Clear: true}, billing.Op{Actor: billing.UserActor(m.UserID)})
			return err
		},
		billing.ActManageKeys: func(m billing.Membership) error {
			k, _, err := e.svc.CreateMemberAPIKey(ctx, tm.acc, m, "k", billing.Op{Actor: billing.UserActor(m.UserID)})
			if err == nil && (k.MemberID == nil || *k.MemberID != m.ID) {
				t.Errorf("key of %s records member %v", m.Role, k.MemberID)
			}
			return err
		},
		billing.ActManageMembers: func(m billing.Membership) error {
			_, err := e.svc.Invite(ctx, tm.acc, m, billing.InviteInput{Email: key() + "@example.com", Role: billing.RoleMember}, "https://x", billing.Op{})
			return err
		},
		billing.ActManageOwners: func(m billing.Membership) error {
			_, err := e.svc.UpdateMember(ctx, tm.acc, m, tm.om.ID, billing.MemberChange{MonthlyLimit: credits("1000")}, billing.Op{})
			return err
		},
	}
	for _, m := range []billing.Membership{tm.om, admin, member} {
		for act, call := range calls {
			err := call(m)
			if want := billing.Can(m.Role, act); want != (err == nil) || (err != nil && code(err) != billing.ENotFound) {
				t.Errorf("%s %s: %v (allowed %v)", m.Role, act, err, want)
			}
		}
	}
	// A member sees only themself; admins cannot delete the team; the owner can, once empty.
	if v, err := e.svc.Team(ctx, tm.acc, member); err != nil || len(v.Members) != 1 || v.Members[0].ID != member.ID || len(v.Invitations) != 0 {
		t.Fatalf("member's team view: %+v %v", v, err)
	}
	if err := e.svc.DeleteTeam(ctx, tm.acc, admin, billing.Op{}); code(err) != billing.ENotFound {
		t.Fatalf("admin deletes the team: %v", err)
	}
	if err := e.svc.DeleteTeam(ctx, tm.acc, member, billing.Op{}); code(err) != billing.ENotFound {
		t.Fatalf("member deletes the team: %v", err)
	}
	e.grant(tm.acc.ID, "5")
	tm.refresh(t)
	if err := e.svc.DeleteTeam(ctx, tm.acc, tm.om, tm.op()); code(err) != billing.EInvalid || !strings.Contains(billing.ErrorMessage(err), "5 credits") {
		t.Fatalf("deleting a team holding credits: %v", err)
	}
	personal, pm, err := e.svc.AccountForUser(ctx, tm.owner.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteTeam(ctx, personal, pm, tm.op()); code(err) != billing.EInvalid {
		t.Fatalf("deleting a personal account: %v", err)
	}
}

// TestAdminsCannotTouchOwners: an admin cannot make, change or remove an owner; an owner can.
func TestAdminsCannotTouchOwners(t *testing.T) {
	e := newTeamEnv(t)
	tm := newTeam(t, e, "pro")
	_, admin := tm.join(t, billing.RoleAdmin, nil)
	_, member := tm.join(t, billing.RoleMember, nil)
	ctx := tm.ctx
	owner := billing.RoleOwner
	if _, err := e.svc.UpdateMember(ctx, tm.acc, admin, member.ID, billing.MemberChange{Role: &owner}, billing.Op{}); code(err) != billing.EInvalid {
		t.Fatalf("admin makes an owner: %v", err)
	}
	if _, err := e.svc.Invite(ctx, tm.acc, admin, billing.InviteInput{Email: key() + "@example.com", Role: owner}, "https://x", billing.Op{}); code(err) != billing.EInvalid {
		t.Fatalf("admin invites an owner: %v", err)
	}
	if err := e.svc.RemoveMember(ctx, tm.acc, admin, tm.om.ID, billing.Op{}); code(err) != billing.ENotFound {
		t.Fatalf("admin removes the owner: %v", err)
	}
	// The last owner can neither leave nor be demoted; once a second owner exists, both can.
	if err := e.svc.RemoveMember(ctx, tm.acc, tm.om, tm.om.ID, tm.op()); code(err) != billing.EInvalid {
		t.Fatalf("last owner leaves: %v", err)
	}
	adminRole := billing.RoleAdmin
	if _, err := e.svc.UpdateMember(ctx, tm.acc, tm.om, tm.om.ID, billing.MemberChange{Role: &adminRole}, tm.op()); code(err) != billing.EInvalid {
		t.Fatalf("last owner demoted: %v", err)
	}
	if m, err := e.svc.UpdateMember(ctx, tm.acc, tm.om, member.ID, billing.MemberChange{Role: &owner}, tm.op()); err != nil || m.Role != owner {
		t.Fatalf("owner makes an owner: %+v %v", m, err)
	}
	if err := e.svc.RemoveMember(ctx, tm.acc, tm.om, tm.om.ID, tm.op()); err != nil {
		t.Fatalf("an owner leaves beside another: %v", err)
	}
	if _, _, err := e.svc.AccountForUser(ctx, tm.owner.ID, tm.acc.ID); code(err) != billing.ENotFound {
		t.Fatalf("the owner who left still reaches the account: %v", err)
	}
}

// TestInvitationLinks: single use, 7 days, revoke and resend kill the old link, the email must
// match, and at the seat cap a clear message names the plan's seats.
func TestInvitationLinks(t *testing.T) {
	e := newTeamEnv(t)
	tm := newTeam(t, e, "pro")
	ctx := tm.ctx
	invite := func(email string) (billing.Invitation, error) {
		return e.svc.Invite(ctx, tm.acc, tm.om, billing.InviteInput{Email: email, Role: billing.RoleMember}, "https://portal.test", tm.op())
	}
	// Expiry: the link works until 7 days have passed.
	a := key() + "@example.com"
	inv, err := invite(a)
	if err != nil || !inv.ExpiresAt.Equal(e.clock.Now().UTC().Truncate(time.Microsecond).Add(7*24*time.Hour)) {
		t.Fatalf("invite: %+v %v", inv, err)
	}
	tokA := tm.lastLink(t, a)
	if _, err := invite(strings.ToUpper(a)); code(err) != billing.EInvalid {
		t.Fatalf("a second pending invitation for one email: %v", err)
	}
	e.clock.Advance(7*24*time.Hour - time.Second)
	if got, err := e.svc.InvitationByToken(ctx, tokA); err != nil || got.ID != inv.ID {
		t.Fatalf("before expiry: %v", err)
	}
	e.clock.Advance(time.Second)
	if _, err := e.svc.InvitationByToken(ctx, tokA); code(err) != billing.ENotFound || !strings.Contains(billing.ErrorMessage(err), "expired") {
		t.Fatalf("after expiry: %v", err)
	}
	if _, _, err := e.svc.SignUpWithInvitation(ctx, tokA, billing.SignUpInput{Name: "A", Password: "long-enough-pw"}, billing.Op{}); code(err) != billing.ENotFound {
		t.Fatalf("sign-up on an expired link: %v", err)
	}
	// Resend: a new link and expiry; the old one is dead.
	if _, err := e.svc.ResendInvitation(ctx, tm.acc, tm.om, inv.ID, "https://portal.test", tm.op()); err != nil {
		t.Fatal(err)
	}
	tokA2 := tm.lastLink(t, a)
	if tokA2 == tokA {
		t.Fatal("resend reused the token")
	}
	if _, err := e.svc.InvitationByToken(ctx, tokA); code(err) != billing.ENotFound {
		t.Fatalf("old link after resend: %v", err)
	}
	// Another user's email cannot accept it; the invited one can, once.
	other, _, err := e.svc.SignUp(ctx, billing.SignUpInput{Name: "Other", Email: key() + "@example.com", Password: "long-enough-pw"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AcceptInvitation(ctx, tokA2, other.ID, billing.Op{}); code(err) != billing.EForbidden {
		t.Fatalf("accepted by another address: %v", err)
	}
	ua, _, err := e.svc.SignUp(ctx, billing.SignUpInput{Name: "A", Email: a, Password: "long-enough-pw"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.svc.AcceptInvitation(ctx, tokA2, ua.ID, billing.Op{Actor: billing.UserActor(ua.ID)})
	if err != nil || m.Role != billing.RoleMember || !strings.HasPrefix(m.ID, "mem_") {
		t.Fatalf("accept: %+v %v", m, err)
	}
	if _, err := e.svc.AcceptInvitation(ctx, tokA2, ua.ID, billing.Op{}); code(err) != billing.ENotFound || !strings.Contains(billing.ErrorMessage(err), "already accepted") {
		t.Fatalf("reuse: %v", err)
	}
	if _, err := invite(a); code(err) != billing.EInvalid {
		t.Fatalf("inviting a member: %v", err)
	}
	// Revoke kills the link.
	b := key() + "@example.com"
	invB, err := invite(b)
	if err != nil {
		t.Fatal(err)
	}
	tokB := tm.lastLink(t, b)
	if err := e.svc.RevokeInvitation(ctx, tm.acc, tm.om, invB.ID, tm.op()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.SignUpWithInvitation(ctx, tokB, billing.SignUpInput{Name: "B", Password: "long-enough-pw"}, billing.Op{}); code(err) != billing.ENotFound {
		t.Fatalf("sign-up on a revoked link: %v", err)
	}
	if err := e.svc.RevokeInvitation(ctx, tm.acc, tm.om, invB.ID, tm.op()); code(err) != billing.ENotFound {
		t.Fatalf("revoking twice: %v", err)
	}
	// Seat cap (Pro: 5): owner + A = 2 members; 3 pending invitations fill it.
	for i := 0; i < 3; i++ {
		if _, err := invite(key() + "@example.com"); err != nil {
			t.Fatalf("invitation %d: %v", i, err)
		}
	}
	_, err = invite(key() + "@example.com")
	var be *billing.Error
	if !errors.As(err, &be) || be.Code != billing.EInvalid || !strings.Contains(be.Fields["email"], "allows 5 seats") {
		t.Fatalf("at the seat cap: %v", err)
	}
	v, err := e.svc.Team(ctx, tm.acc, tm.om)
	if err != nil || v.Seats != 5 || v.SeatsUsed != 5 || len(v.Members) != 2 || len(v.Invitations) != 3 {
		t.Fatalf("team view at the cap: seats %d/%d, %d members, %d invitations, %v", v.SeatsUsed, v.Seats, len(v.Members), len(v.Invitations), err)
	}
	if _, err := e.svc.InvitationByToken(ctx, "not-a-token"); code(err) != billing.ENotFound {
		t.Fatalf("unknown token: %v", err)
	}
	var stored int
	if err := e.db.Get(&stored, `SELECT count(*) FROM invitations WHERE token_hash = $1`, tokA2); err != nil || stored != 0 {
		t.Fatalf("a raw token is stored: %d %v", stored, err)
	}
}

var imageQ = map[string]billing.Quantity{"images": billing.Count(1)}
var imageA = map[string]string{"model": "sdxl"}

func (tm *team) use(member string, k *billing.APIKey) (billing.UsageResult, error) {
	in := billing.UsageInput{AccountID: tm.acc.ID, Action: "image.generate", Quantities: imageQ, Attributes: imageA, IdempotencyKey: key(), Member: member}
	if k != nil {
		in.Key = k
	}
	return tm.e.svc.ChargeUsage(tm.ctx, in)
}

// TestMemberLimitUnderConcurrency: 200 concurrent usage events by one member against their
// monthly limit: exactly the events that fit are charged, the rest are member_limit_reached,
// nothing goes over, other members and unattributed usage are not limited, and the ledger
// verifies (env cleanup).
func TestMemberLimitUnderConcurrency(t *testing.T) {
	for _, gc := range []bool{false, true} {
		t.Run(fmt.Sprintf("group_commit=%v", gc), func(t *testing.T) {
			e := newTeamEnv(t)
			if gc {
				startGC(t, e, 2, time.Millisecond)
			}
			tm := newTeam(t, e, "pro")
			mu, m := tm.join(t, billing.RoleMember, nil)
			_, free := tm.join(t, billing.RoleMember, nil)
			e.grant(tm.acc.ID, "100000")
			est, err := e.svc.Estimate(tm.ctx, tm.acc.ID, "image.generate", imageQ, imageA, false)
			if err != nil || est.Quote.Credits <= 1 {
				t.Fatalf("estimate: %+v %v", est, err)
			}
			cost := est.Quote.Credits
			limit := 50*cost + cost/2
			if _, err := e.svc.UpdateMember(tm.ctx, tm.acc, tm.om, m.ID, billing.MemberChange{MonthlyLimit: &limit}, tm.op()); err != nil {
				t.Fatal(err)
			}
			// Unattributed usage and another member's are not limited (and not counted).
			for _, mem := range []string{"", free.ID, "email:" + strings.ToUpper(mu.Email)} {
				if _, err := tm.use(mem, nil); mem != "" && strings.HasPrefix(mem, "email:") {
					if err != nil {
						t.Fatalf("by email: %v", err)
					}
				} else if err != nil {
					t.Fatalf("usage of %q: %v", mem, err)
				}
			}
			var wg sync.WaitGroup
			var lock sync.Mutex
			count := map[string]int{}
			for i := 0; i < 200; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					ref := m.ID
					if i%2 == 1 {
						ref = "email:" + mu.Email
					}
					_, err := tm.use(ref, nil)
					lock.Lock()
					count[code(err)]++
					lock.Unlock()
				}(i)
			}
			wg.Wait()
			if count[""] != 49 || count[billing.EMemberLimit] != 151 {
				t.Fatalf("outcomes: %v, want 49 charged (50 fit, one was by email before) and 151 refused", count)
			}
			var spent int64
			if err := e.db.Get(&spent, `SELECT period_spent FROM memberships WHERE id = $1`, m.ID); err != nil || billing.Credits(spent) != 50*cost {
				t.Fatalf("counter %d, want %d (%v)", spent, 50*cost, err)
			}
			var used billing.Credits
			if err := e.db.Get(&used, `SELECT COALESCE(sum(credits), 0) FROM usage_events WHERE member_id = $1`, m.ID); err != nil || used != 50*cost || used > limit {
				t.Fatalf("attributed usage %v, want %v", used, 50*cost)
			}
			_, err = tm.use(m.ID, nil)
			var be *billing.Error
			if !errors.As(err, &be) || be.Code != billing.EMemberLimit || be.Details["limit"] != limit.String() || be.Details["spent"] != (50*cost).String() {
				t.Fatalf("refusal details: %v %+v", err, be)
			}
			// 152 refusals, one notice and one mail job for this limit and period.
			var notices, jobs int
			if err := e.db.Get(&notices, `SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = $2`, tm.acc.ID, billing.NoticeMemberLimit); err != nil || notices != 1 {
				t.Fatalf("member limit notices: %d %v", notices, err)
			}
			if err := e.db.Get(&jobs, `SELECT count(*) FROM jobs WHERE kind = $1 AND payload->>'member' = $2`, billing.JobMemberLimit, m.ID); err != nil || jobs < 1 {
				t.Fatalf("member limit mail jobs: %d %v", jobs, err)
			}
			if !gc { // the job mails the member and the owner, once
				w := e.svc.NewWorker(nil)
				for w.RunDue(tm.ctx) > 0 {
				}
				mail, err := e.svc.Outbox(tm.ctx, 100)
				if err != nil {
					t.Fatal(err)
				}
				to := map[string]int{}
				for _, ml := range mail {
					if ml.Kind == billing.MailMemberLimit {
						to[ml.To]++
					}
				}
				if len(to) != 2 || to[mu.Email] != 1 || to[tm.owner.Email] != 1 {
					t.Fatalf("member limit mail: %v", to)
				}
			}
			// Last active is written off the request, at most once a minute.
			deadline := time.Now().Add(5 * time.Second)
			for {
				var at *time.Time
				if err := e.db.Get(&at, `SELECT last_active_at FROM memberships WHERE id = $1`, m.ID); err != nil {
					t.Fatal(err)
				}
				if at != nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("last_active_at never written")
				}
				time.Sleep(20 * time.Millisecond)
			}
			// Clearing the limit lets the member spend; setting it again recounts from usage.
			if _, err := e.svc.UpdateMember(tm.ctx, tm.acc, tm.om, m.ID, billing.MemberChange{ClearLimit: true}, tm.op()); err != nil {
				t.Fatal(err)
			}
			if _, err := tm.use(m.ID, nil); err != nil {
				t.Fatalf("limit cleared: %v", err)
			}
			mm, err := e.svc.UpdateMember(tm.ctx, tm.acc, tm.om, m.ID, billing.MemberChange{MonthlyLimit: &limit}, tm.op())
			if err != nil || mm.SpentThisPeriod != 51*cost {
				t.Fatalf("recount: %v, want %v (%v)", mm.SpentThisPeriod, 51*cost, err)
			}
			if _, err := tm.use(m.ID, nil); code(err) != billing.EMemberLimit {
				t.Fatalf("over the recounted limit: %v", err)
			}
		})
	}
}

// TestAttribution: a key created by a member attributes to them; an explicit member must match
// it; unknown members, other accounts' members and malformed refs are 400 on field member.
func TestAttribution(t *testing.T) {
	e := newTeamEnv(t)
	tm := newTeam(t, e, "pro")
	_, admin := tm.join(t, billing.RoleAdmin, nil)
	mu, member := tm.join(t, billing.RoleMember, nil)
	e.grant(tm.acc.ID, "1000")
	k, secret, err := e.svc.CreateMemberAPIKey(tm.ctx, tm.acc, admin, "admin key", billing.Op{Actor: billing.UserActor(admin.UserID)})
	if err != nil {
		t.Fatal(err)
	}
	key, err := e.svc.AuthenticateKey(tm.ctx, secret)
	if err != nil || key.MemberID == nil || *key.MemberID != admin.ID {
		t.Fatalf("authenticated key: %+v %v", key, err)
	}
	r, err := tm.use("", &key)
	if err != nil || r.Event.MemberID != admin.ID {
		t.Fatalf("usage by the admin's key: %+v %v", r.Event.MemberID, err)
	}
	if r, err := tm.use(admin.ID, &key); err != nil || r.Event.MemberID != admin.ID {
		t.Fatalf("explicit matching member: %v", err)
	}
	other := newTeam(t, e, "pro")
	_, stranger := other.join(t, billing.RoleMember, nil)
	for ref, why := range map[string]string{
		member.ID:                           "another member than the key's",
		"mem_nope":                          "unknown id",
		stranger.ID:                         "another account's member",
		"email:nobody@example.com":          "unknown email",
		"bob":                               "malformed",
		"email:" + strings.Repeat("a", 300): "too long",
	} {
		_, err := tm.use(ref, &key)
		var be *billing.Error
		if !errors.As(err, &be) || be.Code != billing.EInvalid || be.Fields["member"] == "" {
			t.Errorf("%s (%q): %v", why, ref, err)
		}
	}
	// Without a member key: any member of the account by id or email; history filters by member.
	if r, err := tm.use("email:"+mu.Email, nil); err != nil || r.Event.MemberID != member.ID {
		t.Fatalf("by email: %v", err)
	}
	l, err := e.svc.UsageListing(tm.ctx, billing.UsageFilter{AccountID: tm.acc.ID, MemberID: member.ID}, false)
	if err != nil || len(l.Events) != 1 || l.Events[0].MemberID != member.ID {
		t.Fatalf("filter by member: %d %v", len(l.Events), err)
	}
	// A member's reads are their own, whatever they ask for.
	l, err = e.svc.UsageListing(tm.ctx, billing.UsageFilter{AccountID: tm.acc.ID, MemberID: admin.ID, Viewer: &member}, true)
	if err != nil || len(l.Events) != 1 || l.Events[0].MemberID != member.ID || l.SummaryOK {
		t.Fatalf("member's listing: %d %v", len(l.Events), err)
	}
	if _, err := e.svc.UsageEventAs(tm.ctx, member, tm.acc.ID, r.Event.ID); code(err) != billing.ENotFound {
		t.Fatalf("member reads the admin's event: %v", err)
	}
	// Removing the admin revokes their key at once.
	if err := e.svc.RemoveMember(tm.ctx, tm.acc, tm.om, admin.ID, tm.op()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateKey(tm.ctx, secret); code(err) != billing.EUnauthenticated {
		t.Fatalf("removed member's key: %v", err)
	}
	if _, _, err := e.svc.AccountForUser(tm.ctx, admin.UserID, tm.acc.ID); code(err) != billing.ENotFound {
		t.Fatalf("removed member still reaches the account: %v", err)
	}
	if _, err := tm.use(admin.ID, nil); code(err) != billing.EInvalid {
		t.Fatalf("usage attributed to a removed member: %v", err)
	}
	_ = k
}

// TestMemberSpendAlert: a member_spend_percent rule fires once when the member's spend crosses
// its percent of their limit, in the debit's transaction; it needs a member of the account.
func TestMemberSpendAlert(t *testing.T) {
	e := newTeamEnv(t)
	tm := newTeam(t, e, "pro")
	_, m := tm.join(t, billing.RoleMember, nil)
	e.grant(tm.acc.ID, "1000")
	est, err := e.svc.Estimate(tm.ctx, tm.acc.ID, "image.generate", imageQ, imageA, false)
	if err != nil {
		t.Fatal(err)
	}
	limit := 10 * est.Quote.Credits
	if _, err := e.svc.UpdateMember(tm.ctx, tm.acc, tm.om, m.ID, billing.MemberChange{MonthlyLimit: &limit}, tm.op()); err != nil {
		t.Fatal(err)
	}
	in := billing.AlertRuleInput{Kind: billing.AlertMemberSpendPercent, Threshold: "50", Channels: []string{billing.ChannelInApp}}
	if _, err := e.svc.CreateAlertRule(tm.ctx, tm.acc.ID, in, tm.op()); code(err) != billing.EInvalid {
		t.Fatalf("a member rule without a member: %v", err)
	}
	in.MemberID = "mem_nope"
	if _, err := e.svc.CreateAlertRule(tm.ctx, tm.acc.ID, in, tm.op()); code(err) != billing.EInvalid {
		t.Fatalf("a member rule for an unknown member: %v", err)
	}
	in.MemberID = m.ID
	r, err := e.svc.CreateAlertRule(tm.ctx, tm.acc.ID, in, tm.op())
	if err != nil || r.Member() != m.ID {
		t.Fatalf("member rule: %+v %v", r, err)
	}
	fired := func() int {
		var n int
		if err := e.db.Get(&n, `SELECT count(*) FROM notifications WHERE account_id = $1 AND rule_id = $2 AND kind = $3`, tm.acc.ID, r.ID, billing.AlertFired); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := 1; i <= 7; i++ {
		if _, err := tm.use(m.ID, nil); err != nil {
			t.Fatal(err)
		}
		want := 0
		if i >= 5 {
			want = 1
		}
		if got := fired(); got != want {
			t.Fatalf("after %d uses (%d%% of the limit): %d notices, want %d", i, i*10, got, want)
		}
	}
}

// TestMemberReservations: a reservation attributed to a member must fit their limit (under
// the account's lock, as a debit), and its commit counts for the hold's member.
func TestMemberReservations(t *testing.T) {
	e := newTeamEnv(t)
	tm := newTeam(t, e, "pro")
	mu, m := tm.join(t, billing.RoleMember, nil)
	e.grant(tm.acc.ID, "1000")
	est, err := e.svc.Estimate(tm.ctx, tm.acc.ID, "image.generate", imageQ, imageA, false)
	if err != nil {
		t.Fatal(err)
	}
	cost := est.Quote.Credits
	limit := 2*cost + cost/2
	if _, err := e.svc.UpdateMember(tm.ctx, tm.acc, tm.om, m.ID, billing.MemberChange{MonthlyLimit: &limit}, tm.op()); err != nil {
		t.Fatal(err)
	}
	reserve := func(member string) (billing.HoldResult, error) {
		res, _, err := e.svc.ReserveAction(tm.ctx, billing.ReserveActionInput{AccountID: tm.acc.ID, Action: "image.generate", Quantities: imageQ,
			Attributes: imageA, TTL: time.Hour, IdempotencyKey: key(), Member: member})
		return res, err
	}
	h, err := reserve("email:" + mu.Email)
	if err != nil || h.Hold.MemberID != m.ID {
		t.Fatalf("reservation by email: %+v %v", h.Hold, err)
	}
	if _, err := tm.use(m.ID, nil); err != nil {
		t.Fatal(err)
	}
	out, err := e.svc.CommitAction(tm.ctx, billing.CommitActionInput{HoldID: h.Hold.ID, Quantities: imageQ, IdempotencyKey: key()})
	if err != nil || out.Event.MemberID != m.ID {
		t.Fatalf("commit: %+v %v", out.Event.MemberID, err)
	}
	if _, err := reserve(m.ID); code(err) != billing.EMemberLimit {
		t.Fatalf("a reservation past the member's limit: %v", err)
	}
	if _, err := reserve("mem_nope"); code(err) != billing.EInvalid {
		t.Fatalf("a reservation for an unknown member: %v", err)
	}
	var spent int64
	if err := e.db.Get(&spent, `SELECT period_spent FROM memberships WHERE id = $1`, m.ID); err != nil || billing.Credits(spent) != 2*cost {
		t.Fatalf("counter %d, want %d (%v)", spent, 2*cost, err)
	}
	days, err := e.svc.TeamUsage(tm.ctx, tm.acc, tm.om, 30)
	if err != nil || len(days) != 1 || days[0].MemberID != m.ID || days[0].Credits != 2*cost {
		t.Fatalf("team usage: %+v %v", days, err)
	}
	if days, err := e.svc.TeamUsage(tm.ctx, tm.acc, billing.Membership{ID: "mem_other", Role: billing.RoleMember}, 30); err != nil || len(days) != 0 {
		t.Fatalf("another member's team usage: %+v %v", days, err)
	}
	// verify checks the counter against the attributed usage.
	if _, err := e.db.Exec(`UPDATE memberships SET period_spent = period_spent + 1 WHERE id = $1`, m.ID); err != nil {
		t.Fatal(err)
	}
	vs, err := e.svc.Verify(tm.ctx)
	if err != nil || len(vs) != 1 || !strings.Contains(vs[0].String(), m.ID) {
		t.Fatalf("verify of a broken counter: %v %v", vs, err)
	}
	if _, err := e.db.Exec(`UPDATE memberships SET period_spent = period_spent - 1 WHERE id = $1`, m.ID); err != nil {
		t.Fatal(err)
	}
}

// TestCreateAndDeleteTeam: names are checked; an empty team is deleted by its owner: members
// and keys go, the ledger stays.
func TestCreateAndDeleteTeam(t *testing.T) {
	e := newTeamEnv(t)
	tm := newTeam(t, e, "pro")
	for _, name := range []string{"", "   ", strings.Repeat("x", 101), "a\nb", "a\x00b"} {
		if _, err := e.svc.CreateTeam(tm.ctx, tm.owner.ID, name, tm.op()); code(err) != billing.EInvalid {
			t.Errorf("team name %q: %v", name, err)
		}
	}
	_, m := tm.join(t, billing.RoleAdmin, nil)
	_, secret, err := e.svc.CreateMemberAPIKey(tm.ctx, tm.acc, m, "k", billing.Op{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteTeam(tm.ctx, tm.acc, tm.om, tm.op()); err != nil {
		t.Fatal(err)
	}
	for _, uid := range []string{tm.owner.ID, m.UserID} {
		if _, _, err := e.svc.AccountForUser(tm.ctx, uid, tm.acc.ID); code(err) != billing.ENotFound {
			t.Fatalf("a deleted team is still reachable: %v", err)
		}
	}
	if _, err := e.svc.AuthenticateKey(tm.ctx, secret); code(err) != billing.EUnauthenticated {
		t.Fatalf("a deleted team's key: %v", err)
	}
	var audits int
	if err := e.db.Get(&audits, `SELECT count(*) FROM audit_log WHERE account_id = $1 AND action = $2`, tm.acc.ID, billing.AuditTeamDelete); err != nil || audits != 1 {
		t.Fatalf("audit of the deletion: %d %v", audits, err)
	}
}

// TestBillingInTeamAccount: billing methods scoped with InAccount act on that account, and a
// member of it is refused (not_found) where a purchase or billing change is concerned.
func TestBillingInTeamAccount(t *testing.T) {
	e := newTeamEnv(t)
	tm := newTeam(t, e, "pro")
	mu, _ := tm.join(t, billing.RoleMember, nil)
	o, err := e.svc.BillingOverview(billing.InAccount(tm.ctx, tm.acc.ID), tm.owner.ID)
	if err != nil || o.Account.ID != tm.acc.ID {
		t.Fatalf("owner's team billing: %v %v", o.Account.ID, err)
	}
	if _, err := e.svc.BillingOverview(billing.InAccount(tm.ctx, tm.acc.ID), mu.ID); code(err) != billing.ENotFound {
		t.Fatalf("member's team billing: %v", err)
	}
	if _, err := e.svc.SaveAutoRecharge(billing.InAccount(tm.ctx, tm.acc.ID), mu.ID, billing.AutoRechargeForm{}); code(err) != billing.ENotFound {
		t.Fatalf("member saves auto-recharge: %v", err)
	}
	if o, err := e.svc.BillingOverview(tm.ctx, mu.ID); err != nil || o.Account.ID == tm.acc.ID {
		t.Fatalf("member's own billing: %v %v", o.Account.ID, err)
	}
}

// TestMemberCounterWithReservationsInBatches: with group commit, a member's debits and
// reservations share batches; the counter stays equal to their attributed usage and within
// the limit.
func TestMemberCounterWithReservationsInBatches(t *testing.T) {
	e := newTeamEnv(t)
	startGC(t, e, 1, 2*time.Millisecond)
	tm := newTeam(t, e, "enterprise")
	_, m := tm.join(t, billing.RoleMember, nil)
	e.grant(tm.acc.ID, "100000")
	est, err := e.svc.Estimate(tm.ctx, tm.acc.ID, "image.generate", imageQ, imageA, false)
	if err != nil {
		t.Fatal(err)
	}
	limit := 60 * est.Quote.Credits
	if _, err := e.svc.UpdateMember(tm.ctx, tm.acc, tm.om, m.ID, billing.MemberChange{MonthlyLimit: &limit}, tm.op()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 120; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if i%3 == 0 {
				_, _, err := e.svc.ReserveAction(tm.ctx, billing.ReserveActionInput{AccountID: tm.acc.ID, Action: "image.generate", Quantities: imageQ,
					Attributes: imageA, TTL: time.Hour, IdempotencyKey: key(), Member: m.ID})
				if err != nil && code(err) != billing.EMemberLimit && code(err) != billing.ENotEntitled {
					t.Error(err)
				}
				return
			}
			if _, err := tm.use(m.ID, nil); err != nil && code(err) != billing.EMemberLimit {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	var counter, used billing.Credits
	if err := e.db.Get(&counter, `SELECT period_spent FROM memberships WHERE id = $1`, m.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Get(&used, `SELECT COALESCE(sum(credits), 0) FROM usage_events WHERE member_id = $1`, m.ID); err != nil {
		t.Fatal(err)
	}
	if counter != used || used > limit || used == 0 {
		t.Fatalf("counter %v, attributed usage %v, limit %v", counter, used, limit)
	}
}

// TestUnlimitedMembersStayLockFree: on an account whose members have no limit, debits
// attributed to a member are decided lock-free like any; once a member has a limit, only
// that account's member debits take the lock, unattributed ones stay lock-free.
func TestUnlimitedMembersStayLockFree(t *testing.T) {
	e := newTeamEnv(t)
	tm := newTeam(t, e, "pro")
	_, m := tm.join(t, billing.RoleMember, nil)
	e.grant(tm.acc.ID, "1000")
	if _, err := tm.use(m.ID, nil); err != nil { // warms the ledger cache
		t.Fatal(err)
	}
	st := e.svc.LedgerStats()
	count := func(member string, n int) (lockFree, locked int64) {
		lf, lk := st.LockFree.Load(), st.Locked.Load()
		for i := 0; i < n; i++ {
			if _, err := tm.use(member, nil); err != nil {
				t.Fatal(err)
			}
		}
		return st.LockFree.Load() - lf, st.Locked.Load() - lk
	}
	if lf, lk := count(m.ID, 20); lf != 20 || lk != 0 {
		t.Fatalf("unlimited member: %d lock-free, %d locked", lf, lk)
	}
	limit := billing.MustCredits("1000")
	if _, err := e.svc.UpdateMember(tm.ctx, tm.acc, tm.om, m.ID, billing.MemberChange{MonthlyLimit: &limit}, tm.op()); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.use("", nil); err != nil { // re-reads the account after the change
		t.Fatal(err)
	}
	if lf, lk := count("", 20); lf != 20 || lk != 0 {
		t.Fatalf("unattributed on an account with member limits: %d lock-free, %d locked", lf, lk)
	}
	if lf, lk := count(m.ID, 20); lf != 0 || lk != 20 {
		t.Fatalf("limited member: %d lock-free, %d locked", lf, lk)
	}
}

// TestMemberHoldsCountAgainstLimit: a member's active holds count against their limit like
// the account's reserved counts against available, for reservations and for debits; a
// refused reservation tells the member and the owners once; commits never take the counter
// past the limit, and a commit above its hold is capped at what the limit still allows.
func TestMemberHoldsCountAgainstLimit(t *testing.T) {
	e := newTeamEnv(t)
	tm := newTeam(t, e, "enterprise")
	_, m := tm.join(t, billing.RoleMember, nil)
	e.grant(tm.acc.ID, "10000")
	est, err := e.svc.Estimate(tm.ctx, tm.acc.ID, "image.generate", imageQ, imageA, false)
	if err != nil {
		t.Fatal(err)
	}
	cost := est.Quote.Credits
	limit := 2 * cost
	if _, err := e.svc.UpdateMember(tm.ctx, tm.acc, tm.om, m.ID, billing.MemberChange{MonthlyLimit: &limit}, tm.op()); err != nil {
		t.Fatal(err)
	}
	reserve := func() (billing.HoldResult, error) {
		res, _, err := e.svc.ReserveAction(tm.ctx, billing.ReserveActionInput{AccountID: tm.acc.ID, Action: "image.generate", Quantities: imageQ,
			Attributes: imageA, TTL: time.Hour, IdempotencyKey: key(), Member: m.ID})
		return res, err
	}
	var holds []string
	for i := 0; i < 6; i++ {
		res, err := reserve()
		switch {
		case err == nil:
			holds = append(holds, res.Hold.ID)
		case code(err) != billing.EMemberLimit:
			t.Fatalf("reservation %d: %v", i, err)
		}
	}
	if len(holds) != 2 {
		t.Fatalf("%d of 6 reservations of %v accepted against a limit of %v, want 2", len(holds), cost, limit)
	}
	if _, err := tm.use(m.ID, nil); code(err) != billing.EMemberLimit {
		t.Fatalf("a debit while the member's holds fill their limit: %v", err)
	}
	k, _, err := e.svc.CreateAccountKey(tm.ctx, tm.acc.ID, "operator key", tm.op())
	if err != nil {
		t.Fatal(err)
	}
	if est, err := e.svc.EstimateForMember(tm.ctx, k, tm.acc.ID, m.ID, "image.generate", imageQ, imageA, false); err != nil || est.Allowed || est.Reason != billing.EMemberLimit {
		t.Fatalf("an estimate while the member's holds fill their limit: %+v %v", est, err)
	}
	var notices int
	if err := e.db.Get(&notices, `SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = $2`, tm.acc.ID, billing.NoticeMemberLimit); err != nil || notices != 1 {
		t.Fatalf("%d member limit notices after refused reservations (%v), want 1", notices, err)
	}
	// Released: its amount stops counting.
	if _, err := e.svc.ReleaseHold(tm.ctx, holds[1], tm.acc.ID, "test"); err != nil {
		t.Fatal(err)
	}
	// A commit of four images on a hold of one: the part above the hold is capped at the room
	// left by the counter (0) and the other holds (none): 2 images' worth.
	big := map[string]billing.Quantity{"images": billing.Count(4)}
	out, err := e.svc.CommitAction(tm.ctx, billing.CommitActionInput{HoldID: holds[0], Quantities: big, IdempotencyKey: key()})
	if err != nil {
		t.Fatal(err)
	}
	if out.Event.Credits != limit || !slices.Contains(out.Warnings, billing.WarnCapped) {
		t.Fatalf("commit above the hold charged %v (warnings %v), want %v capped", out.Event.Credits, out.Warnings, limit)
	}
	if _, err := reserve(); code(err) != billing.EMemberLimit {
		t.Fatalf("a reservation at the limit: %v", err)
	}
	var spent int64
	if err := e.db.Get(&spent, `SELECT period_spent FROM memberships WHERE id = $1`, m.ID); err != nil || billing.Credits(spent) != limit {
		t.Fatalf("counter %v, want %v (%v)", billing.Credits(spent), limit, err)
	}
}

// TestMemberCommitsStayUnderLimit: many concurrent reservations and debits by one member
// (group commit off and on): exactly what fits the limit is accepted, and committing every
// accepted hold never puts the counter past it (the reviewer's case: limit 8, cost 4, six
// reservations accepted and a counter at 24).
func TestMemberCommitsStayUnderLimit(t *testing.T) {
	for _, gc := range []bool{false, true} {
		t.Run(fmt.Sprintf("group_commit=%v", gc), func(t *testing.T) {
			e := newTeamEnv(t)
			if gc {
				startGC(t, e, 2, time.Millisecond)
			}
			tm := newTeam(t, e, "enterprise")
			_, m := tm.join(t, billing.RoleMember, nil)
			e.grant(tm.acc.ID, "10000")
			est, err := e.svc.Estimate(tm.ctx, tm.acc.ID, "image.generate", imageQ, imageA, false)
			if err != nil {
				t.Fatal(err)
			}
			cost := est.Quote.Credits
			limit := 10*cost + cost/2
			if _, err := e.svc.UpdateMember(tm.ctx, tm.acc, tm.om, m.ID, billing.MemberChange{MonthlyLimit: &limit}, tm.op()); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			holds := make(chan string, 40)
			var mu sync.Mutex
			debits := 0
			for i := 0; i < 80; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					if i%2 == 0 {
						res, _, err := e.svc.ReserveAction(tm.ctx, billing.ReserveActionInput{AccountID: tm.acc.ID, Action: "image.generate", Quantities: imageQ,
							Attributes: imageA, TTL: time.Hour, IdempotencyKey: key(), Member: m.ID})
						if err == nil {
							holds <- res.Hold.ID
						} else if code(err) != billing.EMemberLimit && code(err) != billing.ENotEntitled {
							t.Errorf("reserve: %v", err)
						}
						return
					}
					if _, err := tm.use(m.ID, nil); err == nil {
						mu.Lock()
						debits++
						mu.Unlock()
					} else if code(err) != billing.EMemberLimit {
						t.Errorf("use: %v", err)
					}
				}(i)
			}
			wg.Wait()
			close(holds)
			n := 0
			for h := range holds {
				n++
				if _, err := e.svc.CommitAction(tm.ctx, billing.CommitActionInput{HoldID: h, Quantities: imageQ, IdempotencyKey: key()}); err != nil {
					t.Fatalf("commit: %v", err)
				}
			}
			var spent int64
			if err := e.db.Get(&spent, `SELECT period_spent FROM memberships WHERE id = $1`, m.ID); err != nil {
				t.Fatal(err)
			}
			if n+debits != 10 || billing.Credits(spent) != 10*cost {
				t.Fatalf("%d holds and %d debits accepted, counter %v, want 10 and %v", n, debits, billing.Credits(spent), 10*cost)
			}
		})
	}
}

// TestMemberPeriodMoveRecounts: a spend period that moves (a subscription starts, ends or
// changes its period) recounts a member's counter from their usage in the new period instead
// of zeroing it; the natural rollover starts it again at 0; UpdateMember takes the period
// from the account it locks, not from the caller's copy.
func TestMemberPeriodMoveRecounts(t *testing.T) {
	e := newTeamEnv(t)
	tm := newTeam(t, e, "enterprise")
	_, m := tm.join(t, billing.RoleMember, nil)
	e.grant(tm.acc.ID, "10000")
	est, err := e.svc.Estimate(tm.ctx, tm.acc.ID, "image.generate", imageQ, imageA, false)
	if err != nil {
		t.Fatal(err)
	}
	cost := est.Quote.Credits
	limit := 3 * cost
	stale := tm.acc // the caller's copy, from before the period moves
	if _, err := e.svc.UpdateMember(tm.ctx, tm.acc, tm.om, m.ID, billing.MemberChange{MonthlyLimit: &limit}, tm.op()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := tm.use(m.ID, nil); err != nil {
			t.Fatal(err)
		}
	}
	now := e.svc.Now()
	// A subscription's monthly period that began before the calendar month's.
	start := time.Date(now.Year(), now.Month()-1, now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 2)
	if now.Day() > 26 {
		start = time.Date(now.Year(), now.Month(), 20, 0, 0, 0, 0, time.UTC)
	}
	end := start.AddDate(0, 1, 0)
	if _, err := e.db.Exec(`UPDATE accounts SET billing_period_start = $2, billing_period_end = $3 WHERE id = $1`, tm.acc.ID, start, end); err != nil {
		t.Fatal(err)
	}
	e.svc.ForgetAccount(tm.acc.ID, 0)
	for i := 0; i < 3; i++ {
		if _, err := tm.use(m.ID, nil); code(err) != billing.EMemberLimit {
			t.Fatalf("use %d in the moved period: %v", i, err)
		}
	}
	counter := func() (billing.Credits, time.Time) {
		t.Helper()
		var r struct {
			Spent billing.Credits `db:"period_spent"`
			Start time.Time       `db:"period_start"`
		}
		if err := e.db.Get(&r, `SELECT period_spent, period_start FROM memberships WHERE id = $1`, m.ID); err != nil {
			t.Fatal(err)
		}
		return r.Spent, r.Start
	}
	if spent, at := counter(); spent != limit || !at.Equal(start) {
		t.Fatalf("counter %v since %v after the period moved, want %v since %v", spent, at, limit, start)
	}
	// UpdateMember with a copy of the account from before the move recounts the locked one's.
	higher := 4 * cost
	if _, err := e.svc.UpdateMember(tm.ctx, stale, tm.om, m.ID, billing.MemberChange{MonthlyLimit: &higher}, tm.op()); err != nil {
		t.Fatal(err)
	}
	if spent, at := counter(); spent != limit || !at.Equal(start) {
		t.Fatalf("counter %v since %v after UpdateMember with a stale account, want %v since %v", spent, at, limit, start)
	}
	// The natural rollover: the next period starts where this one ends, at 0.
	e.clock.Advance(end.Sub(now) + time.Hour)
	k, _, err := e.svc.CreateAccountKey(tm.ctx, tm.acc.ID, "operator key", tm.op())
	if err != nil {
		t.Fatal(err)
	}
	if est, err := e.svc.EstimateForMember(tm.ctx, k, tm.acc.ID, m.ID, "image.generate", imageQ, imageA, false); err != nil || !est.Allowed {
		t.Fatalf("an estimate in the next period: %+v %v", est, err)
	}
	if _, err := tm.use(m.ID, nil); err != nil {
		t.Fatalf("use in the next period: %v", err)
	}
	next, _ := billing.SpendPeriod(billing.Account{BillingPeriodStart: &start, BillingPeriodEnd: &end}, e.svc.Now())
	if spent, at := counter(); spent != cost || !at.Equal(next) {
		t.Fatalf("counter %v since %v after the rollover, want %v since %v", spent, at, cost, next)
	}
	if vs, err := e.svc.Verify(tm.ctx); err != nil || len(vs) != 0 {
		t.Fatalf("verify: %v %v", vs, err)
	}
}

// TestDemotionRevokesKeys: an admin's account keys act with an admin's powers, so demoting
// them to member revokes those keys in the same transaction, audited, and the keys are refused
// at once; an admin made owner keeps theirs. A key always records the membership that made it.
func TestDemotionRevokesKeys(t *testing.T) {
	e := newTeamEnv(t)
	tm := newTeam(t, e, "pro")
	_, admin := tm.join(t, billing.RoleAdmin, nil)
	_, other := tm.join(t, billing.RoleAdmin, nil)
	k, secret, err := e.svc.CreateMemberAPIKey(tm.ctx, tm.acc, admin, "admin key", billing.Op{Actor: billing.UserActor(admin.UserID)})
	if err != nil {
		t.Fatal(err)
	}
	_, kept, err := e.svc.CreateMemberAPIKey(tm.ctx, tm.acc, other, "other key", billing.Op{Actor: billing.UserActor(other.UserID)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateKey(tm.ctx, secret); err != nil {
		t.Fatal(err)
	}
	member, owner := billing.RoleMember, billing.RoleOwner
	if _, err := e.svc.UpdateMember(tm.ctx, tm.acc, tm.om, admin.ID, billing.MemberChange{Role: &member}, tm.op()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateKey(tm.ctx, secret); code(err) != billing.EUnauthenticated {
		t.Fatalf("a demoted admin's key: %v", err)
	}
	if _, err := e.svc.UpdateMember(tm.ctx, tm.acc, tm.om, other.ID, billing.MemberChange{Role: &owner}, tm.op()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateKey(tm.ctx, kept); err != nil {
		t.Fatalf("an admin made owner lost their key: %v", err)
	}
	found := false
	for _, a := range e.auditOf(tm.acc.ID) {
		if a.Action == billing.AuditMemberUpdate && strings.Contains(string(a.After), k.ID) && strings.Contains(string(a.After), "revoked_keys") {
			found = true
		}
	}
	if !found {
		t.Fatalf("the demotion's audit entry does not name the revoked key %s", k.ID)
	}
	// Keys of members demoted before the fix: migration 0027 revokes them, audited.
	_, late := tm.join(t, billing.RoleAdmin, nil)
	lk, lateSecret, err := e.svc.CreateMemberAPIKey(tm.ctx, tm.acc, late, "late key", billing.Op{Actor: billing.UserActor(late.UserID)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`UPDATE memberships SET role = 'member' WHERE id = $1`, late.ID); err != nil {
		t.Fatal(err)
	}
	sql, err := migrations.FS.ReadFile("0027_member_indexes.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(string(sql)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateKey(tm.ctx, lateSecret); code(err) != billing.EUnauthenticated {
		t.Fatalf("a key of a member demoted before the fix, after migration 0027: %v", err)
	}
	var audited int
	if err := e.db.Get(&audited, `SELECT count(*) FROM audit_log WHERE action = 'api_key.revoke' AND account_id = $1 AND after->>'id' = $2`, tm.acc.ID, lk.ID); err != nil || audited != 1 {
		t.Fatalf("%d audit entries for the migration's revocation (%v)", audited, err)
	}
	// A key needs a real membership: a role alone records no creator.
	if _, _, err := e.svc.CreateMemberAPIKey(tm.ctx, tm.acc, billing.Membership{AccountID: tm.acc.ID, Role: billing.RoleOwner}, "x", tm.op()); code(err) != billing.ENotFound {
		t.Fatalf("a key without a membership: %v", err)
	}
}

// TestReplayNamingAGoneMember: replaying a recorded usage event or reservation answers the
// original outcome even when the member it names was removed since, or their limit lowered
// below their spend; a new request naming the removed member is still a 400 on field member.
func TestReplayNamingAGoneMember(t *testing.T) {
	e := newTeamEnv(t)
	tm := newTeam(t, e, "enterprise")
	mu, m := tm.join(t, billing.RoleMember, nil)
	e.grant(tm.acc.ID, "10000")
	limit := billing.MustCredits("1000")
	if _, err := e.svc.UpdateMember(tm.ctx, tm.acc, tm.om, m.ID, billing.MemberChange{MonthlyLimit: &limit}, tm.op()); err != nil {
		t.Fatal(err)
	}
	use := billing.UsageInput{AccountID: tm.acc.ID, Action: "image.generate", Quantities: imageQ, Attributes: imageA, IdempotencyKey: key(),
		Member: m.ID, RequestHash: "h1"}
	r1, err := e.svc.ChargeUsage(tm.ctx, use)
	if err != nil {
		t.Fatal(err)
	}
	res := billing.ReserveActionInput{AccountID: tm.acc.ID, Action: "image.generate", Quantities: imageQ, Attributes: imageA, TTL: time.Hour,
		IdempotencyKey: key(), Member: "email:" + mu.Email, RequestHash: "h2"}
	h1, _, err := e.svc.ReserveAction(tm.ctx, res)
	if err != nil {
		t.Fatal(err)
	}
	// The limit lowered below the member's spend: the replay is the original.
	low := billing.MustCredits("0")
	if _, err := e.svc.UpdateMember(tm.ctx, tm.acc, tm.om, m.ID, billing.MemberChange{MonthlyLimit: &low}, tm.op()); err != nil {
		t.Fatal(err)
	}
	if r2, err := e.svc.ChargeUsage(tm.ctx, use); err != nil || !r2.Replayed || r2.Event.ID != r1.Event.ID {
		t.Fatalf("replay after the limit was lowered: %+v %v", r2, err)
	}
	// The member removed: still the original.
	if err := e.svc.RemoveMember(tm.ctx, tm.acc, tm.om, m.ID, tm.op()); err != nil {
		t.Fatal(err)
	}
	if r2, err := e.svc.ChargeUsage(tm.ctx, use); err != nil || !r2.Replayed || r2.Event.ID != r1.Event.ID {
		t.Fatalf("usage replay naming a removed member: %+v %v", r2, err)
	}
	if h2, _, err := e.svc.ReserveAction(tm.ctx, res); err != nil || !h2.Replayed || h2.Hold.ID != h1.Hold.ID {
		t.Fatalf("reservation replay naming a removed member: %+v %v", h2, err)
	}
	// A new request naming them is refused; a reused key with another body is a conflict.
	fresh := use
	fresh.IdempotencyKey = key()
	if _, err := e.svc.ChargeUsage(tm.ctx, fresh); code(err) != billing.EInvalid {
		t.Fatalf("new usage naming a removed member: %v", err)
	}
	other := use
	other.RequestHash = "h3"
	if _, err := e.svc.ChargeUsage(tm.ctx, other); code(err) != billing.EIdempotencyConflict {
		t.Fatalf("a reused key with another body: %v", err)
	}
}

// TestMemberCounterNeverMovesBackwards: an instance whose clock is still in the last period
// (behind the one that rolled the counter over) decides against the counter as it is: it
// neither zeroes it nor moves its period back, so the member cannot spend their limit twice.
func TestMemberCounterNeverMovesBackwards(t *testing.T) {
	e := newTeamEnv(t)
	tm := newTeam(t, e, "enterprise")
	_, m := tm.join(t, billing.RoleMember, nil)
	e.grant(tm.acc.ID, "10000")
	est, err := e.svc.Estimate(tm.ctx, tm.acc.ID, "image.generate", imageQ, imageA, false)
	if err != nil {
		t.Fatal(err)
	}
	cost := est.Quote.Credits
	if _, err := e.svc.UpdateMember(tm.ctx, tm.acc, tm.om, m.ID, billing.MemberChange{MonthlyLimit: &cost}, tm.op()); err != nil {
		t.Fatal(err)
	}
	// Into the next calendar month, one hour past its start: the member spends their limit.
	_, end := billing.SpendPeriod(tm.acc, e.svc.Now())
	e.clock.Advance(end.Sub(e.svc.Now()) + time.Hour)
	if _, err := tm.use(m.ID, nil); err != nil {
		t.Fatal(err)
	}
	behind := billing.NewService(e.store, billing.Options{Now: func() time.Time { return e.clock.Now().Add(-2 * time.Hour) }})
	_, err = behind.Debit(tm.ctx, billing.DebitInput{AccountID: tm.acc.ID, Amount: cost, IdempotencyKey: key(), Enforce: true, MemberID: m.ID})
	if code(err) != billing.EMemberLimit {
		t.Fatalf("a debit by an instance behind the rollover: %v", err)
	}
	var start time.Time
	if err := e.db.Get(&start, `SELECT period_start FROM memberships WHERE id = $1`, m.ID); err != nil || !start.Equal(end) {
		t.Fatalf("counter period %v, want %v (%v)", start, end, err)
	}
}
