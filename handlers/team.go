package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// teamChartDays is the span of the team page's per-member chart.
const teamChartDays = 30

// teamDone are the messages a redirect back to /team carries in ?done=.
var teamDone = map[string]string{
	"created":  "Team created. Invite the people who will share its credits.",
	"invited":  "Invitation sent: the link in the mail works once, for 7 days.",
	"resent":   "Invitation sent again with a new link; the old link no longer works.",
	"revoked":  "Invitation revoked: its link no longer works.",
	"updated":  "Member updated.",
	"removed":  "Member removed: their access and their API keys for this account are revoked.",
	"accepted": "Welcome to the team.",
}

// Team: GET /team — members with their spend and limits, invitations, the per-member chart.
// A member's role sees the balance, their own row and their own usage only (billing decides).
func (h *Handlers) Team(c echo.Context) error {
	acc, m, q, err := h.customerAccount(c)
	if err != nil {
		return err
	}
	v, err := h.teamView(c, acc, m, q)
	if err != nil {
		return err
	}
	if msg, ok := teamDone[c.QueryParam("done")]; ok {
		v.FlashKind, v.Flash = "success", msg
	}
	return render(c, http.StatusOK, pages.TeamPage(v))
}

func (h *Handlers) teamView(c echo.Context, acc billing.Account, m billing.Membership, q string) (pages.TeamPageView, error) {
	ctx := c.Request().Context()
	t, err := h.svc.Team(ctx, acc, m)
	if err != nil {
		return pages.TeamPageView{}, err
	}
	days, err := h.svc.TeamUsage(ctx, acc, m, teamChartDays)
	if err != nil {
		return pages.TeamPageView{}, err
	}
	bal, err := h.svc.Balance(ctx, acc.ID)
	if err != nil {
		return pages.TeamPageView{}, err
	}
	v := pages.TeamPageView{T: t, Balance: bal.Available, AccountQ: q,
		Chart: billing.MemberUsageChart(days, t.Members, h.svc.Now(), teamChartDays)}
	v.IsPersonal = !acc.IsTeam
	return v, nil
}

// teamResult redirects back to the page after success and re-renders it after an expected
// error: field errors beside their field (422), a refused change as a message (403).
func (h *Handlers) teamResult(c echo.Context, acc billing.Account, m billing.Membership, q, done string, err error, fill func(*pages.TeamPageView, map[string]string, string)) error {
	if err == nil {
		target := url.Values{"done": {done}}
		if q != "" {
			target.Set("account", q)
		}
		return c.Redirect(http.StatusSeeOther, "/team?"+target.Encode())
	}
	status := formStatus
	switch billing.ErrorCode(err) {
	case billing.EInvalid, billing.EConflict:
	case billing.EForbidden:
		status = http.StatusForbidden
	default:
		return err
	}
	v, verr := h.teamView(c, acc, m, q)
	if verr != nil {
		return verr
	}
	fields, msg := fieldErrors(err)
	if fields == nil && msg == "" {
		msg = billing.ErrorMessage(err)
	}
	fill(&v, fields, msg)
	v.FlashKind, v.Flash = "error", "Nothing was changed: please correct the form below."
	if len(fields) == 0 {
		v.Flash = msg
	}
	return render(c, status, pages.TeamPage(v))
}

// formLimit reads an optional monthly limit field: empty is no limit.
func formLimit(c echo.Context) (*billing.Credits, error) {
	return formCredits("monthly_limit", c.FormValue("monthly_limit"))
}

// Invite: POST /team/invitations — mails a single-use link; seat cap, a bad address or role,
// or someone already in the team answer beside the field.
func (h *Handlers) Invite(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageMembers)
	if err != nil {
		return err
	}
	vals := formValues(c, "email", "role", "monthly_limit")
	in := billing.InviteInput{Email: strings.TrimSpace(vals["email"]), Role: vals["role"]}
	in.MonthlyLimit, err = formLimit(c)
	if err == nil {
		_, err = h.svc.Invite(c.Request().Context(), acc, m, in, h.siteURL(c), userOp(c))
	}
	return h.teamResult(c, acc, m, q, "invited", err, func(v *pages.TeamPageView, fields map[string]string, msg string) {
		v.Invite, v.InviteErrors = vals, fields
		if fields == nil {
			v.InviteErrors = map[string]string{"": msg}
		}
	})
}

// RevokeInvitation: POST /team/invitations/:id/revoke.
func (h *Handlers) RevokeInvitation(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageMembers)
	if err != nil {
		return err
	}
	err = h.svc.RevokeInvitation(c.Request().Context(), acc, m, c.Param("id"), userOp(c))
	return h.teamResult(c, acc, m, q, "revoked", err, func(*pages.TeamPageView, map[string]string, string) {})
}

// ResendInvitation: POST /team/invitations/:id/resend — a new link, a new 7 days.
func (h *Handlers) ResendInvitation(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageMembers)
	if err != nil {
		return err
	}
	_, err = h.svc.ResendInvitation(c.Request().Context(), acc, m, c.Param("id"), h.siteURL(c), userOp(c))
	return h.teamResult(c, acc, m, q, "resent", err, func(*pages.TeamPageView, map[string]string, string) {})
}

// UpdateMember: POST /team/members/:id — role and monthly limit (empty: no limit).
func (h *Handlers) UpdateMember(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageMembers)
	if err != nil {
		return err
	}
	id := c.Param("id")
	vals := formValues(c, "role", "monthly_limit")
	var ch billing.MemberChange
	if r := vals["role"]; r != "" {
		ch.Role = &r
	}
	ch.MonthlyLimit, err = formLimit(c)
	ch.ClearLimit = err == nil && ch.MonthlyLimit == nil
	if err == nil {
		_, err = h.svc.UpdateMember(c.Request().Context(), acc, m, id, ch, userOp(c))
	}
	return h.teamResult(c, acc, m, q, "updated", err, func(v *pages.TeamPageView, fields map[string]string, msg string) {
		if fields == nil {
			fields = map[string]string{"": msg}
		}
		v.MemberForm = map[string]map[string]string{id: vals}
		v.MemberErrors = map[string]map[string]string{id: fields}
	})
}

// RemoveMember: POST /team/members/:id/remove — asks first; confirm=yes removes (their keys on
// the account are revoked by billing).
func (h *Handlers) RemoveMember(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageMembers)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if !confirmed(c) {
		return h.teamConfirm(c, acc, m, q, pages.TeamConfirm{Kind: "remove", MemberID: id})
	}
	err = h.svc.RemoveMember(c.Request().Context(), acc, m, id, userOp(c))
	return h.teamResult(c, acc, m, q, "removed", err, func(*pages.TeamPageView, map[string]string, string) {})
}

// LeaveTeam: POST /team/leave — asks first; then the user's membership ends and the switcher
// goes back to their first account.
func (h *Handlers) LeaveTeam(c echo.Context) error {
	acc, m, q, err := h.customerAccount(c)
	if err != nil {
		return err
	}
	if !confirmed(c) {
		return h.teamConfirm(c, acc, m, q, pages.TeamConfirm{Kind: "leave", Name: acc.Name})
	}
	if err := h.svc.RemoveMember(c.Request().Context(), acc, m, m.ID, userOp(c)); err != nil {
		return h.teamResult(c, acc, m, q, "", err, func(*pages.TeamPageView, map[string]string, string) {})
	}
	h.forgetCurrentAccount(c)
	return hxRedirect(c, "/")
}

// DeleteTeam: POST /team/delete — owners only (404 for anyone else); asks first.
func (h *Handlers) DeleteTeam(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActDeleteTeam)
	if err != nil {
		return err
	}
	if !confirmed(c) {
		return h.teamConfirm(c, acc, m, q, pages.TeamConfirm{Kind: "delete", Name: acc.Name})
	}
	if err := h.svc.DeleteTeam(c.Request().Context(), acc, m, userOp(c)); err != nil {
		return h.teamResult(c, acc, m, q, "", err, func(*pages.TeamPageView, map[string]string, string) {})
	}
	h.forgetCurrentAccount(c)
	return hxRedirect(c, "/")
}

func (h *Handlers) teamConfirm(c echo.Context, acc billing.Account, m billing.Membership, q string, cf pages.TeamConfirm) error {
	v, err := h.teamView(c, acc, m, q)
	if err != nil {
		return err
	}
	if cf.Kind == "remove" {
		found := false
		for _, mem := range v.T.Members {
			// An admin is not even asked about removing an owner (billing refuses it anyway).
			if mem.ID == cf.MemberID && (mem.Role != billing.RoleOwner || billing.Can(m.Role, billing.ActManageOwners)) {
				cf.Name, found = billing.MemberLabel(mem), true
			}
		}
		if !found {
			return billing.Errorf(billing.ENotFound, "No such member.")
		}
	}
	v.Confirm = &cf
	return render(c, http.StatusOK, pages.TeamPage(v))
}
