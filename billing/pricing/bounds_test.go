package pricing

import (
	"testing"

	"creditline/billing/value"
)

// TestPriceBookAmountsAreBounded: a book whose prices or multipliers pass the bounds does not
// validate (pricing refused anything above 10^12 credits already; the book now says why).
func TestPriceBookAmountsAreBounded(t *testing.T) {
	for name, edit := range map[string]func(d *BookData){
		"component price": func(d *BookData) { d.Rates[0].Components[0].Price = value.MaxCredits + 1 },
		"flat":            func(d *BookData) { d.Rates[0].Flat = value.MaxCredits + 1 },
		"minimum":         func(d *BookData) { d.Rates[0].Minimum = value.MaxCredits + 1 },
		"rate multiplier": func(d *BookData) { d.Rates[0].Multiplier = 100*value.MultiplierOne + 1 },
		"batch":           func(d *BookData) { d.BatchMultiplier = 100*value.MultiplierOne + 1 },
	} {
		d := SeedBook().Data()
		d.Status = BookDraft
		edit(&d)
		b, err := NewBook(d)
		if err != nil {
			t.Fatal(err)
		}
		if value.ErrorCode(b.Validate()) != value.EInvalid {
			t.Errorf("%s past the bound validates", name)
		}
	}
}
