package handlers

import (
	"net/http"
	"strings"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// The platform API keys page: create (secret shown once), revoke after a confirmation step.

func (h *Handlers) adminKeysView(c echo.Context) (pages.AdminKeysView, error) {
	keys, err := h.svc.PlatformAPIKeys(c.Request().Context())
	return pages.AdminKeysView{Keys: keys, Values: map[string]string{}}, err
}

// AdminAPIKeys: GET /admin/api-keys.
func (h *Handlers) AdminAPIKeys(c echo.Context) error {
	v, err := h.adminKeysView(c)
	if err != nil {
		return err
	}
	switch c.QueryParam("done") {
	case "revoked":
		v.Notice = pages.Notice{Kind: "success", Text: "The key was revoked: requests with it are refused from now on."}
	}
	return render(c, http.StatusOK, pages.AdminAPIKeys(v))
}

// AdminCreateAPIKey: POST /admin/api-keys — a platform key, audited.
func (h *Handlers) AdminCreateAPIKey(c echo.Context) error {
	vals := formValues(c, "name", "reason")
	k, secret, err := h.svc.CreatePlatformKey(c.Request().Context(), vals["name"], adminOp(c))
	if err != nil {
		return h.adminKeysFormError(c, "create", vals, err)
	}
	v, err := h.adminKeysView(c)
	if err != nil {
		return err
	}
	v.NewKey, v.Secret = &k, secret
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusOK, pages.AdminAPIKeys(v))
}

// AdminRevokeAPIKey: POST /admin/api-keys/:id/revoke — confirmed first, audited.
func (h *Handlers) AdminRevokeAPIKey(c echo.Context) error {
	vals := formValues(c, "reason")
	id := c.Param("id")
	v, err := h.adminKeysView(c)
	if err != nil {
		return err
	}
	if !confirmed(c) {
		for i := range v.Keys {
			if v.Keys[i].ID == id && v.Keys[i].RevokedAt == nil {
				v.Confirm, v.Values = &v.Keys[i], vals
				return render(c, http.StatusOK, pages.AdminAPIKeys(v))
			}
		}
		return billing.Errorf(billing.ENotFound, "No active platform key %s.", id)
	}
	if _, err := h.svc.RevokePlatformKey(c.Request().Context(), id, adminOp(c)); err != nil {
		return h.adminKeysFormError(c, "revoke:"+id, vals, err)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/api-keys?done=revoked")
}

// adminKeysFormError re-renders the page with the form as typed (422) for invalid input.
func (h *Handlers) adminKeysFormError(c echo.Context, form string, vals map[string]string, err error) error {
	if billing.ErrorCode(err) != billing.EInvalid {
		return err
	}
	v, verr := h.adminKeysView(c)
	if verr != nil {
		return verr
	}
	v.Form, v.Values = form, vals
	v.Errors, _ = fieldErrors(err)
	v.Notice = pages.Notice{Kind: "error", Text: "Nothing was changed: please correct the form below."}
	if id, ok := strings.CutPrefix(form, "revoke:"); ok {
		for i := range v.Keys {
			if v.Keys[i].ID == id {
				v.Confirm = &v.Keys[i]
			}
		}
	}
	return render(c, formStatus, pages.AdminAPIKeys(v))
}
