package billing

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPriceErrors(t *testing.T) {
	gpt := attrs("model", "gpt-4o")
	cases := []struct {
		name  string
		req   PriceRequest
		code  string
		field string
		says  string // the field message (or error message) contains this
	}{
		{"unknown action", PriceRequest{Action: "chat.complete"}, EUnknownAction, "", `"chat.complete"`},
		{"unpriced model lists accepted values", PriceRequest{Action: "chat.completion", Attributes: attrs("model", "gpt-5")},
			EInvalid, "attributes.model", "accepted values: gpt-4o, small-open"},
		{"missing model", PriceRequest{Action: "image.generate", Quantities: qty("images", "1")},
			EInvalid, "attributes.model", "is required for image.generate; accepted values: dall-e-3, mj-equivalent, sdxl"},
		{"attribute the action does not use", PriceRequest{Action: "file.process", Attributes: attrs("model", "x")},
			EInvalid, "attributes.model", "is not used by file.process"},
		{"quantity the action does not take", PriceRequest{Action: "chat.completion", Attributes: gpt, Quantities: qty("images", "1")},
			EInvalid, "quantities.images", "it takes: input_tokens, output_tokens"},
		{"negative count", PriceRequest{Action: "chat.completion", Attributes: gpt, Quantities: qty("input_tokens", "-5")},
			EInvalid, "quantities.input_tokens", "must not be negative"},
		{"negative measure", PriceRequest{Action: "file.process", Quantities: qty("megabytes", "-0.5")},
			EInvalid, "quantities.megabytes", "must not be negative"},
		{"fractional count", PriceRequest{Action: "chat.completion", Attributes: gpt, Quantities: qty("output_tokens", "1.5")},
			EInvalid, "quantities.output_tokens", "must be a whole number of tokens"},
		{"fractional images", PriceRequest{Action: "image.generate", Attributes: attrs("model", "sdxl"), Quantities: qty("images", "0.5")},
			EInvalid, "quantities.images", "whole number of images"},
	}
	book := SeedPriceBook()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.req.At = wednesdayNoon
			_, err := book.Price(c.req)
			var e *Error
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
	_, err := SeedPriceBook().Price(PriceRequest{Action: "nope", At: wednesdayNoon})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	if got := e.Details["actions"].([]string); len(got) != 7 || got[0] != "audio.transcribe" {
		t.Errorf("actions = %v", got)
	}
}

func TestPriceNeedsTime(t *testing.T) {
	_, err := SeedPriceBook().Price(PriceRequest{Action: "file.process"})
	if ErrorCode(err) != EInvalid {
		t.Errorf("err = %v", err)
	}
}

func TestPriceTooLarge(t *testing.T) {
	_, err := SeedPriceBook().Price(PriceRequest{Action: "video.generate", Quantities: map[string]Quantity{"seconds": 1 << 62}, At: wednesdayNoon})
	var e *Error
	if !errors.As(err, &e) || e.Fields["quantities.seconds"] != "must be at most 1000000000000" {
		t.Errorf("err = %v", err)
	}
	// Within the quantity bound, the price passes 10^12 credits (2 credits a second): refused.
	_, err = SeedPriceBook().Price(PriceRequest{Action: "video.generate", Quantities: map[string]Quantity{"seconds": MaxQuantity}, At: wednesdayNoon})
	if !errors.As(err, &e) || !strings.Contains(e.Fields["quantities"], "more than 1,000,000,000,000 credits") {
		t.Errorf("err = %v", err)
	}
	// Just below the bound prices exactly.
	q, err := SeedPriceBook().Price(PriceRequest{Action: "video.generate", Quantities: map[string]Quantity{"seconds": MaxQuantity / 2}, At: wednesdayNoon})
	if err != nil || q.Credits != MaxCredits {
		t.Errorf("%s %v, want %s", q.Credits, err, MaxCredits)
	}
}

// A quantity the matched rate prices is required: left out, it priced as 0 and was charged 0.
func TestPriceRefusesAMissingQuantity(t *testing.T) {
	_, err := SeedPriceBook().Price(PriceRequest{Action: "chat.completion", Attributes: attrs("model", "gpt-4o"),
		Quantities: qty("output_tokens", "100"), At: time.Now()})
	var e *Error
	if !errors.As(err, &e) || e.Code != EInvalid || e.Fields["quantities.input_tokens"] != "required by chat.completion model=gpt-4o" || len(e.Fields) != 1 {
		t.Errorf("err = %v", err)
	}
	_, err = SeedPriceBook().Price(PriceRequest{Action: "image.generate", Attributes: attrs("model", "dall-e-3", "quality", "hd"), At: time.Now()})
	if !errors.As(err, &e) || e.Fields["quantities.images"] != "required by image.generate model=dall-e-3 quality=hd" {
		t.Errorf("err = %v", err)
	}
	// A flat rate prices no quantity: none is required (the action may still take some).
	q, err := SeedPriceBook().Price(PriceRequest{Action: "chat.completion", Attributes: attrs("model", "small-open"), At: time.Now()})
	if err != nil || q.Credits != Credit {
		t.Errorf("small-open: %s %v", q.Credits, err)
	}
	// An explicit zero is a quantity.
	q, err = SeedPriceBook().Price(PriceRequest{Action: "chat.completion", Attributes: attrs("model", "gpt-4o"),
		Quantities: qty("input_tokens", "0", "output_tokens", "100"), At: time.Now()})
	if err != nil || q.Credits != MustCredits("1") {
		t.Errorf("credits %s, %v", q.Credits, err)
	}
	// An unknown extra quantity is refused, naming it.
	_, err = SeedPriceBook().Price(PriceRequest{Action: "video.generate", Quantities: qty("seconds", "1", "frames", "3"), At: time.Now()})
	if !errors.As(err, &e) || !strings.HasPrefix(e.Fields["quantities.frames"], "is not taken by video.generate") {
		t.Errorf("extra quantity: %v", err)
	}
}
