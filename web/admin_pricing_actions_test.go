package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"creditline/billing"
	"github.com/PuerkitoBio/goquery"
)

// actionFormValues reads a catalog action's form on the draft page as the browser sends it.
func actionFormValues(t *testing.T, a *adminEnv, draft, key string) url.Values {
	t.Helper()
	v := url.Values{}
	sel := a.adm.Get(draft).Doc.Find(`[data-testid="action-` + key + `"]`)
	if sel.Length() == 0 {
		t.Fatalf("no action %s on %s", key, draft)
	}
	sel.Find("input").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		val, _ := s.Attr("value")
		if typ, _ := s.Attr("type"); typ == "checkbox" {
			if _, on := s.Attr("checked"); !on {
				return
			}
		}
		if name != "" && name != "_csrf" {
			v.Add(name, val)
		}
	})
	return v
}

// TestAdminPricingActionEditor: the draft editor edits the catalog's actions over htmx, with
// each problem beside its field (name, quantities, attributes, key) or beside the action (a
// rate that would no longer fit, a removal while rates use it); good edits save and show in
// the draft.
func TestAdminPricingActionEditor(t *testing.T) {
	a := newAdminEnv(t)
	keepCatalog(t, a.Env)
	draft := a.adm.Submit("/admin/pricing", "/admin/pricing/drafts", url.Values{}).Header.Get("Location")
	if !strings.HasPrefix(draft, "/admin/pricing/drafts/") {
		t.Fatalf("draft url %q", draft)
	}
	id := draft[strings.LastIndex(draft, "/")+1:]
	chat := draft + "/actions/chat.completion"
	v := actionFormValues(t, a, draft, "chat.completion")
	if !slices.Contains(v["actions.chat.completion.quantities"], "output_tokens") || v.Get("actions.chat.completion.name") == "" {
		t.Fatalf("chat.completion form = %v", v)
	}

	for _, c := range []struct {
		name   string
		edit   func(v url.Values)
		testid string
		text   string
	}{
		{"no name", func(v url.Values) { v.Set("actions.chat.completion.name", "") }, "error-actions.chat.completion.name", "required"},
		{"unknown quantity", func(v url.Values) { v.Add("actions.chat.completion.quantities", "furlongs") },
			"error-actions.chat.completion.quantities", "furlongs"},
		{"unknown attribute", func(v url.Values) { v.Add("actions.chat.completion.attributes", "colour") },
			"error-actions.chat.completion.attributes", "colour"},
		{"a rate prices a dropped quantity", func(v url.Values) { v["actions.chat.completion.quantities"] = []string{"input_tokens"} },
			"error-action", "output_tokens"},
		{"a rate matches a dropped attribute", func(v url.Values) { v.Del("actions.chat.completion.attributes") },
			"error-action", "model"},
	} {
		v := actionFormValues(t, a, draft, "chat.completion")
		c.edit(v)
		r := hxSubmit(t, a, draft, chat, v)
		e := r.Doc.Find(`[data-testid="` + c.testid + `"]`)
		if r.Status != 422 || e.Length() != 1 || !strings.Contains(e.Text(), c.text) || r.Doc.Find(`nav`).Length() != 0 {
			t.Errorf("%s: status %d, %s = %q", c.name, r.Status, c.testid, e.Text())
		}
	}
	// What was typed stays ticked in the refused form.
	v = actionFormValues(t, a, draft, "chat.completion")
	v["actions.chat.completion.quantities"] = []string{"input_tokens"}
	r := hxSubmit(t, a, draft, chat, v)
	if _, on := r.Doc.Find(`input[name="actions.chat.completion.quantities"][value="output_tokens"]`).Attr("checked"); on {
		t.Error("the refused form ticks output_tokens again")
	}

	// A good edit saves: a new display name and one more attribute.
	v = actionFormValues(t, a, draft, "chat.completion")
	v.Set("actions.chat.completion.name", "Chat (completions)")
	v.Add("actions.chat.completion.attributes", "quality")
	r = hxSubmit(t, a, draft, chat, v)
	if r.Status != 200 || r.Doc.Find(`[data-testid="action-saved"]`).Length() != 1 || r.Header.Get("HX-Trigger") != "draft-changed" {
		t.Fatalf("save: %d %q", r.Status, r.Header.Get("HX-Trigger"))
	}
	d := draftByID(t, a, id)
	for _, act := range d.Book.Actions() {
		if act.Key == "chat.completion" && (act.Name != "Chat (completions)" || !slices.Contains(act.Attributes, "quality")) {
			t.Errorf("chat.completion saved as %+v", act)
		}
	}

	// A new action: key and name checked beside their fields; a taken key refused.
	add := draft + "/actions/new"
	for _, c := range []struct {
		key, name, testid string
	}{
		{"Speech Gen", "Speech", "error-new_action.key"},
		{"", "Speech", "error-new_action.key"},
		{"video.generate", "Video again", "error-new_action.key"},
		{"speech.generate", "", "error-new_action.name"},
	} {
		r := hxSubmit(t, a, draft, add, url.Values{"new_action.key": {c.key}, "new_action.name": {c.name}, "new_action.quantities": {"words"}})
		if r.Status != 422 || r.Doc.Find(`[data-testid="add-action"] [data-testid="`+c.testid+`"]`).Length() != 1 {
			t.Errorf("new action %q %q: status %d, no %s in %s", c.key, c.name, r.Status, c.testid, r.Body)
		}
	}
	r = hxSubmit(t, a, draft, add, url.Values{"new_action.key": {"speech.generate"}, "new_action.name": {"Speech"},
		"new_action.quantities": {"words", "seconds"}, "new_action.attributes": {"model"}})
	if r.Status != 200 || !strings.Contains(r.Header.Get("HX-Redirect"), "#action-speech.generate") {
		t.Fatalf("add: %d %q %s", r.Status, r.Header.Get("HX-Redirect"), r.Body)
	}
	if a.adm.Get(draft).Doc.Find(`[data-testid="action-speech.generate"]`).Length() != 1 {
		t.Error("the new action is not on the draft page")
	}

	// Removing: refused while rates use the action, done when none does.
	r = hxSubmit(t, a, draft, draft+"/actions/video.generate/remove", actionFormValues(t, a, draft, "video.generate"))
	if e := r.Doc.Find(`[data-testid="error-action"]`); r.Status != 422 || !strings.Contains(e.Text(), "Remove its rates first") {
		t.Errorf("remove video.generate: %d %q", r.Status, e.Text())
	}
	r = hxSubmit(t, a, draft, draft+"/actions/speech.generate/remove", actionFormValues(t, a, draft, "speech.generate"))
	if r.Status != 200 || r.Header.Get("HX-Trigger") != "draft-changed" {
		t.Fatalf("remove speech.generate: %d", r.Status)
	}
	d = draftByID(t, a, id)
	if slices.ContainsFunc(d.Book.Actions(), func(x billing.Action) bool { return x.Key == "speech.generate" }) ||
		!slices.ContainsFunc(d.Book.Actions(), func(x billing.Action) bool { return x.Key == "video.generate" }) {
		t.Errorf("actions after removal: %v", d.Book.Actions())
	}
	// A NUL in a name is refused before anything is parsed.
	v = actionFormValues(t, a, draft, "chat.completion")
	v.Set("actions.chat.completion.name", "Chat\x00")
	if r := hxSubmit(t, a, draft, chat, v); r.Status != http.StatusBadRequest {
		t.Errorf("NUL in a name: %d", r.Status)
	}
}

func draftByID(t *testing.T, a *adminEnv, id string) billing.PriceDraft {
	t.Helper()
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	d, err := a.Svc.PriceDraft(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestAdminPricingRateCostAndMultiplierErrors: a rate's vendor costs, feature multiplier, flat
// price and minimum are each refused beside their own field (htmx, 422).
func TestAdminPricingRateCostAndMultiplierErrors(t *testing.T) {
	a := newAdminEnv(t)
	keepCatalog(t, a.Env)
	draft := a.adm.Submit("/admin/pricing", "/admin/pricing/drafts", url.Values{}).Header.Get("Location")
	save := draft + "/rates/chat-gpt-4o"
	for _, c := range []struct{ field, value string }{
		{"flat_cost", "-5"},
		{"flat_cost", "lots"},
		{"components.output_tokens.cost", "-1"},
		{"components.input_tokens.cost", "1.5"},
		{"multiplier", "abc"},
		{"multiplier", "101"},
		{"flat", "-1"},
		{"minimum", "-0.5"},
	} {
		r := hxSubmit(t, a, draft, save, gptForm(t, a, draft, map[string]string{c.field: c.value}))
		sel := `[data-testid="error-rates.chat-gpt-4o.` + c.field + `"]`
		if r.Status != 422 || r.Doc.Find(sel).Length() != 1 {
			t.Errorf("%s = %q: status %d, %s found %d times", c.field, c.value, r.Status, sel, r.Doc.Find(sel).Length())
		}
	}
	d := draftByID(t, a, draft[strings.LastIndex(draft, "/")+1:])
	for _, r := range d.Book.Data().Rates {
		if r.ID == "chat-gpt-4o" && (r.FlatCostMicroUSD < 0 || r.Flat < 0 || r.Multiplier > 100*billing.MultiplierOne) {
			t.Errorf("a refused value was saved: %+v", r)
		}
	}
}
