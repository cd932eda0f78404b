package pricing

import (
	"errors"
	"strings"
	"testing"
	"time"

	"creditline/billing/value"
)

func TestPriceErrors(t *testing.T) {
	gpt := attrs("model", "gpt-4o")
	cases := []struct {
		name  string
		req   Request
		code  string
		field string
		says  string // the field message (or error message) contains this
	}{
		{"unknown action", Request{Action: "chat.complete"}, value.EUnknownAction, "", `"chat.complete"`},
		{"unpriced model lists accepted values", Request{Action: "chat.completion", Attributes: attrs("model", "gpt-5")},
			value.EInvalid, "attributes.model", "accepted values: gpt-4o, small-open"},
		{"missing model", Request{Action: "image.generate", Quantities: qty("images", "1")},
			value.EInvalid, "attributes.model", "is required for image.generate; accepted values: dall-e-3, mj-equivalent, sdxl"},
		{"attribute the action does not use", Request{Action: "file.process", Attributes: attrs("model", "x")},
			value.EInvalid, "attributes.model", "is not used by file.process"},
		{"quantity the action does not take", Request{Action: "chat.completion", Attributes: gpt, Quantities: qty("images", "1")},
			value.EInvalid, "quantities.images", "it takes: input_tokens, output_tokens"},
		{"negative count", Request{Action: "chat.completion", Attributes: gpt, Quantities: qty("input_tokens", "-5")},
			value.EInvalid, "quantities.input_tokens", "must not be negative"},
		{"negative measure", Request{Action: "file.process", Quantities: qty("megabytes", "-0.5")},
			value.EInvalid, "quantities.megabytes", "must not be negative"},
		{"fractional count", Request{Action: "chat.completion", Attributes: gpt, Quantities: qty("output_tokens", "1.5")},
			value.EInvalid, "quantities.output_tokens", "must be a whole number of tokens"},
		{"fractional images", Request{Action: "image.generate", Attributes: attrs("model", "sdxl"), Quantities: qty("images", "0.5")},
			value.EInvalid, "quantities.images", "whole number of images"},
	}
	book := SeedBook()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.req.At = wednesdayNoon
			_, err := book.Price(c.req)
			var e *value.Error
			if !errors.As(err, &e) || e.Code != c.code {
				t.Fatalf("err = %v, want code %s", err, c.code)
			}
			msg := e.Message
			if c.field != "" {
				msg = e.Fields[c.field]
			}
			if !strings.Contains(msg, c.says) {
				t.Errorf("%s: %q does not say %q (fields %v)", c.field, msg, c.says, e.Fields)
			}
		})
	}
}

func TestPriceUnknownActionListsCatalog(t *testing.T) {
	_, err := SeedBook().Price(Request{Action: "nope", At: wednesdayNoon})
	var e *value.Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	if got := e.Details["actions"].([]string); len(got) != 7 || got[0] != "audio.transcribe" {
		t.Errorf("actions = %v", got)
	}
}

func TestPriceNeedsTime(t *testing.T) {
	_, err := SeedBook().Price(Request{Action: "file.process"})
	if value.ErrorCode(err) != value.EInvalid {
		t.Errorf("err = %v", err)
	}
}

func TestPriceTooLarge(t *testing.T) {
	_, err := SeedBook().Price(Request{Action: "video.generate", Quantities: map[string]value.Quantity{"seconds": 1 << 62}, At: wednesdayNoon})
	var e *value.Error
	if !errors.As(err, &e) || e.Fields["quantities.seconds"] != "must be at most 1000000000000" {
		t.Errorf("err = %v", err)
	}
	// Within the quantity bound, the price passes 10^12 credits (2 credits a second): refused.
	_, err = SeedBook().Price(Request{Action: "video.generate", Quantities: map[string]value.Quantity{"seconds": value.MaxQuantity}, At: wednesdayNoon})
	if !errors.As(err, &e) || !strings.Contains(e.Fields["quantities"], "more than 1,000,000,000,000 credits") {
		t.Errorf("err = %v", err)
	}
	// Just below the bound prices exactly.
	q, err := SeedBook().Price(Request{Action: "video.generate", Quantities: map[string]value.Quantity{"seconds": value.MaxQuantity / 2}, At: wednesdayNoon})
	if err != nil || q.Credits != value.MaxCredits {
		t.Errorf("%s %v, want %s", q.Credits, err, value.MaxCredits)
	}
}

// A quantity the matched rate prices is required: left out, it priced as 0 and was charged 0.
func TestPriceRefusesAMissingQuantity(t *testing.T) {
	_, err := SeedBook().Price(Request{Action: "chat.completion", Attributes: attrs("model", "gpt-4o"),
		Quantities: qty("output_tokens", "100"), At: time.Now()})
	var e *value.Error
	if !errors.As(err, &e) || e.Code != value.EInvalid || e.Fields["quantities.input_tokens"] != "required by chat.completion model=gpt-4o" || len(e.Fields) != 1 {
		t.Errorf("err = %v", err)
	}
	_, err = SeedBook().Price(Request{Action: "image.generate", Attributes: attrs("model", "dall-e-3", "quality", "hd"), At: time.Now()})
	if !errors.As(err, &e) || e.Fields["quantities.images"] != "required by image.generate model=dall-e-3 quality=hd" {
		t.Errorf("err = %v", err)
	}
	// A flat rate prices no quantity: none is required (the action may still take some).
	q, err := SeedBook().Price(Request{Action: "chat.completion", Attributes: attrs("model", "small-open"), At: time.Now()})
	if err != nil || q.Credits != value.Credit {
		t.Errorf("small-open: %s %v", q.Credits, err)
	}
	// An explicit zero is a quantity.
	q, err = SeedBook().Price(Request{Action: "chat.completion", Attributes: attrs("model", "gpt-4o"),
		Quantities: qty("input_tokens", "0", "output_tokens", "100"), At: time.Now()})
	if err != nil || q.Credits != value.MustCredits("1") {
		t.Errorf("credits %s, %v", q.Credits, err)
	}
	// An unknown extra quantity is refused, naming it.
	_, err = SeedBook().Price(Request{Action: "video.generate", Quantities: qty("seconds", "1", "frames", "3"), At: time.Now()})
	if !errors.As(err, &e) || !strings.HasPrefix(e.Fields["quantities.frames"], "is not taken by video.generate") {
		t.Errorf("extra quantity: %v", err)
	}
}
