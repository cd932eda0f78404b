package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"creditline/billing"
	"github.com/labstack/echo/v4"
)

// memberJSON is a member as the API shows it (SPEC section 4).
type memberJSON struct {
	ID              string           `json:"id"`
	Email           string           `json:"email"`
	Role            string           `json:"role"`
	MonthlyLimit    *billing.Credits `json:"monthly_limit"`
	SpentThisPeriod billing.Credits  `json:"spent_this_period"`
}

func toMemberJSON(m billing.Member) memberJSON {
	return memberJSON{ID: m.ID, Email: m.Email, Role: m.Role, MonthlyLimit: m.MonthlyLimit, SpentThisPeriod: m.SpentThisPeriod}
}

// teamActor resolves the account and the membership the key acts as (a platform key: the owner's rights).
func (h *Handlers) teamActor(c echo.Context) (billing.Account, billing.Membership, error) {
	a, err := h.account(c, c.Param("id"))
	if err != nil {
		return billing.Account{}, billing.Membership{}, err
	}
	m, err := h.svc.APIMembership(c.Request().Context(), *apiKey(c), a)
	return a, m, err
}

// APIListMembers: GET /api/v1/accounts/{id}/members.
func (h *Handlers) APIListMembers(c echo.Context) error {
	a, m, err := h.teamActor(c)
	if err != nil {
		return err
	}
	v, err := h.svc.Team(c.Request().Context(), a, m)
	if err != nil {
		return err
	}
	data := make([]memberJSON, len(v.Members))
	for i, mm := range v.Members {
		data[i] = toMemberJSON(mm)
	}
	return c.JSON(http.StatusOK, map[string]any{"data": data})
}

// invitationRequest is the body of POST /api/v1/accounts/{id}/invitations.
type invitationRequest struct {
	Email        string           `json:"email"`
	Role         string           `json:"role"`
	MonthlyLimit *billing.Credits `json:"monthly_limit"`
}

// APICreateInvitation: POST /api/v1/accounts/{id}/invitations — mails a single-use link.
func (h *Handlers) APICreateInvitation(c echo.Context) error {
	a, m, err := h.teamActor(c)
	if err != nil {
		return err
	}
	var req invitationRequest
	if _, err := decode(c, &req); err != nil {
		return err
	}
	inv, err := h.svc.Invite(c.Request().Context(), a, m, billing.InviteInput{Email: req.Email, Role: req.Role, MonthlyLimit: req.MonthlyLimit},
		h.siteURL(c), apiOp(c, "", ""))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, struct {
		ID        string    `json:"id"`
		Email     string    `json:"email"`
		Role      string    `json:"role"`
		ExpiresAt time.Time `json:"expires_at"`
	}{inv.ID, inv.Email, inv.Role, inv.ExpiresAt})
}

// memberPatch is the body of PATCH .../members/{member_id}: absent fields stay, a null
// monthly_limit clears the limit.
type memberPatch struct {
	Role         *string         `json:"role"`
	MonthlyLimit json.RawMessage `json:"monthly_limit"`
}

// change turns the patch into a MemberChange. Errors: invalid_request on role or monthly_limit.
func (p memberPatch) change() (billing.MemberChange, error) {
	ch := billing.MemberChange{Role: p.Role}
	switch raw := bytes.TrimSpace(p.MonthlyLimit); {
	case len(raw) == 0:
	case bytes.Equal(raw, []byte("null")):
		ch.ClearLimit = true
	default:
		var lim billing.Credits
		if err := json.Unmarshal(raw, &lim); err != nil || raw[0] != '"' {
			return billing.MemberChange{}, billing.FieldError("monthly_limit", "Credits as a string, e.g. \"100\" or \"12.5\", or null to remove the limit.")
		}
		ch.MonthlyLimit = &lim
	}
	if p.Role == nil && len(p.MonthlyLimit) == 0 {
		return billing.MemberChange{}, billing.Errorf(billing.EInvalid, "Send role, monthly_limit or both.")
	}
	return ch, nil
}

// APIUpdateMember: PATCH /api/v1/accounts/{id}/members/{member_id}.
func (h *Handlers) APIUpdateMember(c echo.Context) error {
	a, m, err := h.teamActor(c)
	if err != nil {
		return err
	}
	var req memberPatch
	if _, err := decode(c, &req); err != nil {
		return err
	}
	ch, err := req.change()
	if err != nil {
		return err
	}
	mm, err := h.svc.UpdateMember(c.Request().Context(), a, m, c.Param("member_id"), ch, apiOp(c, "", ""))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toMemberJSON(mm))
}

// APIRemoveMember: DELETE /api/v1/accounts/{id}/members/{member_id} — revokes their keys.
func (h *Handlers) APIRemoveMember(c echo.Context) error {
	a, m, err := h.teamActor(c)
	if err != nil {
		return err
	}
	if err := h.svc.RemoveMember(c.Request().Context(), a, m, c.Param("member_id"), apiOp(c, "", "")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
