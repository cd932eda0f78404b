package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"creditline/web/browsertest"
)

// TestBrowserActionEditor: an operator opens a catalog action in a draft, clears its name and
// saves: the error shows beside the field without a page load; a good name saves. Screenshots
// at desktop and phone widths; axe on the editor and on the refused form.
func TestBrowserActionEditor(t *testing.T) {
	a := newAdminEnv(t)
	keepCatalog(t, a.Env)
	for _, w := range []struct {
		name          string
		width, height int
	}{{"1280", 1280, 900}, {"390", 390, 844}} {
		t.Run(w.name, func(t *testing.T) {
			d, err := a.Svc.CreatePriceDraft(context.Background(), a.boss)
			if err != nil {
				t.Fatal(err)
			}
			b := browsertest.New(t, a.URL, w.width, w.height)
			signIn(b, a.boss, "admin-password")
			b.Open("/admin/pricing/drafts/" + strconv.FormatInt(d.ID, 10))
			b.WaitVisible(`[data-testid="actions"]`)
			b.Click(`[data-testid="action-file.process"] summary`)
			b.WaitVisible(`#f-actions-file-process-name`)
			b.Fill(`#f-actions-file-process-name`, "")
			b.Click(`[data-testid="action-file.process"] [data-testid="save-action"]`)
			b.WaitVisible(`[data-testid="error-actions.file.process.name"]`)
			b.CheckA11y("action refused")
			b.Screenshot("admin-price-action-error-" + w.name)
			b.Fill(`#f-actions-file-process-name`, "File processing")
			b.Click(`[data-testid="action-file.process"] [data-testid="save-action"]`)
			b.WaitVisible(`[data-testid="action-file.process"] [data-testid="action-saved"]`)
			if got := b.Text(`[data-testid="action-file.process"] summary`); !strings.Contains(got, "File processing") {
				t.Errorf("summary after saving = %q", got)
			}
			b.Screenshot("admin-price-actions-" + w.name)
		})
	}
}
