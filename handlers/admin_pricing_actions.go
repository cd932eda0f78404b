package handlers

import (
	"net/http"
	"regexp"
	"strings"

	"creditline/billing"
	"creditline/views/pages"
	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// maxActionNames bounds the quantities or attributes one action form may send.
const maxActionNames = 16

// actionForm reads an action's name, quantities and attributes, posted under prefix
// (actions.<key>. for an action of the draft, new_action. for a new one).
func actionForm(c echo.Context, key, prefix string) (billing.Action, error) {
	var v billing.Validation
	a := billing.Action{Key: strings.TrimSpace(key), Name: strings.TrimSpace(c.FormValue(prefix + "name"))}
	form, _ := c.FormParams()
	for _, f := range []struct {
		name string
		to   *[]string
	}{{"quantities", &a.Quantities}, {"attributes", &a.Attributes}} {
		vals := form[prefix+f.name]
		if len(vals) > maxActionNames {
			v.Add("actions."+a.Key+"."+f.name, "Choose at most %d.", maxActionNames)
			continue
		}
		for _, s := range vals {
			if s = strings.TrimSpace(s); s != "" {
				*f.to = append(*f.to, s)
			}
		}
	}
	return a, v.Err()
}

// actionValues is the form as typed, its lists joined with commas, to show it again.
func actionValues(c echo.Context, prefix string) map[string]string {
	vals := formValuesAll(c)
	form, _ := c.FormParams()
	for _, f := range []string{"quantities", "attributes"} {
		vals[prefix+f] = strings.Join(form[prefix+f], ",")
	}
	return vals
}

// AdminSavePriceAction: POST /admin/pricing/drafts/:id/actions/:action — one catalog action.
func (h *Handlers) AdminSavePriceAction(c echo.Context) error {
	id, err := draftParam(c)
	if err != nil {
		return err
	}
	key := c.Param("action")
	a, err := actionForm(c, key, "actions."+key+".")
	if err == nil {
		_, err = h.svc.SetDraftAction(c.Request().Context(), id, a, false)
	}
	return h.draftFormResult(c, "action:"+key, actionValues(c, "actions."+key+"."), err, func(v pages.AdminDraftView) templ.Component {
		return pages.ActionForm(v.ActionForm(key))
	})
}

var numberedAction = regexp.MustCompile(`^actions\.#[a-z0-9]+\.`)

// AdminAddPriceAction: POST /admin/pricing/drafts/:id/actions/new — a new catalog action; its
// errors are shown beside the new form's fields (new_action.*).
func (h *Handlers) AdminAddPriceAction(c echo.Context) error {
	id, err := draftParam(c)
	if err != nil {
		return err
	}
	key := strings.TrimSpace(c.FormValue("new_action.key"))
	a, err := actionForm(c, key, "new_action.")
	if err == nil {
		_, err = h.svc.SetDraftAction(c.Request().Context(), id, a, true)
	}
	if err == nil {
		return hxRedirect(c, draftPath(id)+"#action-"+key)
	}
	if billing.ErrorCode(err) == billing.EInvalid {
		fields, msg := fieldErrors(err)
		renamed := billing.Validation{}
		for f, m := range fields {
			f = numberedAction.ReplaceAllString(f, "new_action.")
			f = strings.Replace(f, "actions."+key+".", "new_action.", 1)
			if f == "actions."+key {
				f = "new_action"
			}
			renamed.Add(f, "%s", m)
		}
		if len(fields) == 0 {
			renamed.Add("new_action", "%s", msg)
		}
		err = renamed.Err()
	}
	return h.draftFormResult(c, "new_action", actionValues(c, "new_action."), err, func(v pages.AdminDraftView) templ.Component {
		return pages.NewActionForm(v.NewAction())
	})
}

// AdminRemovePriceAction: POST /admin/pricing/drafts/:id/actions/:action/remove — refused
// (beside the action) while rates use it.
func (h *Handlers) AdminRemovePriceAction(c echo.Context) error {
	id, err := draftParam(c)
	if err != nil {
		return err
	}
	key := c.Param("action")
	_, err = h.svc.RemoveDraftAction(c.Request().Context(), id, key)
	if err == nil {
		if isHTMX(c) {
			c.Response().Header().Set("HX-Trigger", "draft-changed")
			return c.HTML(http.StatusOK, "") // the form is swapped out of the page
		}
		return c.Redirect(http.StatusSeeOther, draftPath(id))
	}
	return h.draftFormResult(c, "action:"+key, actionValues(c, "actions."+key+"."), err, func(v pages.AdminDraftView) templ.Component {
		return pages.ActionForm(v.ActionForm(key))
	})
}
