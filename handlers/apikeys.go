package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// APIKeys: GET /api-keys — the account's keys; the create form on plans with api_access.
func (h *Handlers) APIKeys(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageKeys)
	if err != nil {
		return err
	}
	v, err := h.keysView(c, acc, m, q)
	if err != nil {
		return err
	}
	if id := c.QueryParam("revoked"); id != "" {
		for _, k := range v.K.Keys {
			if k.ID == id && k.RevokedAt != nil {
				v.FlashKind, v.Flash = "success", "Key “"+k.Name+"” was revoked: requests with it are refused from now on."
			}
		}
	}
	return render(c, http.StatusOK, pages.APIKeysPage(v))
}

// CreateAPIKey: POST /api-keys — creates a key and shows its secret this once. A bad name
// re-renders the form (422); a plan without api_access or a member's role is refused (403).
func (h *Handlers) CreateAPIKey(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageKeys)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(c.FormValue("name"))
	k, secret, err := h.svc.CreateMemberAPIKey(c.Request().Context(), acc, m, name, userOp(c))
	status := http.StatusOK
	switch code := billing.ErrorCode(err); code {
	case "":
	case billing.EInvalid, billing.ENotEntitled, billing.EForbidden:
		status = formStatus
		if code != billing.EInvalid {
			status = http.StatusForbidden
		}
	default:
		return err
	}
	v, verr := h.keysView(c, acc, m, q)
	if verr != nil {
		return verr
	}
	if err != nil {
		v.Name = name
		v.Errors, v.Flash = fieldErrors(err)
		v.FlashKind = "error"
		return render(c, status, pages.APIKeysPage(v))
	}
	v.NewKey, v.Secret = &k, secret
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, status, pages.APIKeysPage(v))
}

// RevokeAPIKey: POST /api-keys/:id/revoke — revokes one of this account's keys; any other id
// is a 404.
func (h *Handlers) RevokeAPIKey(c echo.Context) error {
	acc, m, q, err := h.customerAccountFor(c, billing.ActManageKeys)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if err := h.svc.RevokeCustomerAPIKey(c.Request().Context(), acc, m.Role, id, userOp(c)); err != nil {
		return err
	}
	target := url.Values{"revoked": {id}}
	if q != "" {
		target.Set("account", q)
	}
	return c.Redirect(http.StatusSeeOther, "/api-keys?"+target.Encode())
}

func (h *Handlers) keysView(c echo.Context, acc billing.Account, m billing.Membership, q string) (pages.APIKeys, error) {
	k, err := h.svc.KeysOverview(c.Request().Context(), acc)
	if err != nil {
		return pages.APIKeys{}, err
	}
	return pages.APIKeys{Account: acc, K: k, CanManage: billing.CanManageAccount(m.Role), AccountQ: q}, nil
}

// userOp is the signed-in customer as the audit log's actor (no reason: customers give none).
func userOp(c echo.Context) billing.Op {
	return billing.Op{Actor: billing.UserActor(currentUser(c).ID), RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
}
