package pricing

import (
	"time"

	"creditline/billing/value"
)

// Seed data: the demo defaults of the spec (sections 2 and 3). Vendor costs are
// illustrative list prices of comparable vendors, in micro-dollars per block;
// every rate stays above cost even at enterprise (0.8×) with off-peak and batch.

// SeedEpoch is when the seed price book takes effect: before any demo history.
var SeedEpoch = time.Unix(0, 0).UTC()

// SeedBook is version 1, published, with the schedule switched off.
func SeedBook() *Book {
	b, err := NewBook(BookData{
		Version:     1,
		Status:      BookPublished,
		CreatedAt:   SeedEpoch,
		EffectiveAt: SeedEpoch,
		Note:        "Demo defaults",
		Actions:     seedActions(),
		Rates:       seedRates(),
		Schedule: Schedule{Enabled: false, Windows: []Window{
			{Name: "peak", Days: []string{"mon", "tue", "wed", "thu", "fri"}, FromHour: 14, ToHour: 22, Multiplier: value.MustMultiplier("1.5")},
			{Name: "off-peak", FromHour: 2, ToHour: 8, Multiplier: value.MustMultiplier("0.8")},
		}},
		BatchMultiplier: value.MustMultiplier("0.8"),
	})
	if err != nil {
		panic(err)
	}
	return b
}

func seedActions() []Action {
	return []Action{
		{Key: "chat.completion", Name: "Chat completion", Quantities: []string{"input_tokens", "output_tokens"}, Attributes: []string{"model"}},
		{Key: "text.generate", Name: "Text generation", Quantities: []string{"words"}, Attributes: []string{"style"}},
		{Key: "image.generate", Name: "Image generation", Quantities: []string{"images"}, Attributes: []string{"model", "quality", "resolution"}},
		{Key: "embedding.create", Name: "Embedding", Quantities: []string{"input_tokens"}, Attributes: []string{"model"}},
		{Key: "audio.transcribe", Name: "Audio transcription", Quantities: []string{"seconds"}, Attributes: []string{"model"}},
		{Key: "file.process", Name: "File processing", Quantities: []string{"megabytes"}},
		{Key: "video.generate", Name: "Video generation", Quantities: []string{"seconds"}, Attributes: []string{"model", "resolution"}},
	}
}

func seedRates() []Rate {
	c := value.MustCredits
	per := func(q string, n int64, price string, costMicroUSD int64) Component {
		return Component{Quantity: q, Per: n, Price: c(price), CostMicroUSD: costMicroUSD}
	}
	model := func(m string) map[string]string { return map[string]string{"model": m} }
	words := per("words", 500, "1", 1_000) // $0.001 per 500 words
	return []Rate{
		// gpt-4o: $2.50 / $10 per million tokens.
		{ID: "chat-gpt-4o", Action: "chat.completion", Match: model("gpt-4o"), Premium: true, Components: []Component{
			per("input_tokens", 1000, "2.5", 2_500), per("output_tokens", 1000, "10", 10_000)}},
		{ID: "chat-small-open", Action: "chat.completion", Match: model("small-open"), Flat: c("1"), FlatCostMicroUSD: 200},
		{ID: "text", Action: "text.generate", Components: []Component{words}},
		{ID: "text-creative", Action: "text.generate", Match: map[string]string{"style": "creative"},
			Components: []Component{words}, Multiplier: value.MustMultiplier("1.5")},
		{ID: "image-sdxl", Action: "image.generate", Match: model("sdxl"), Components: []Component{per("images", 1, "5", 4_000)}},
		{ID: "image-dall-e-3", Action: "image.generate", Match: model("dall-e-3"), Premium: true,
			Components: []Component{per("images", 1, "10", 40_000)}},
		{ID: "image-dall-e-3-hd", Action: "image.generate", Match: map[string]string{"model": "dall-e-3", "quality": "hd"}, Premium: true,
			Components: []Component{per("images", 1, "25", 80_000)}},
		{ID: "image-mj-equivalent", Action: "image.generate", Match: model("mj-equivalent"), Premium: true,
			Components: []Component{per("images", 1, "15", 50_000)}},
		// $0.02 per million tokens.
		{ID: "embedding", Action: "embedding.create", Components: []Component{per("input_tokens", 1000, "0.02", 20)}},
		// $0.006 per minute.
		{ID: "audio-transcribe", Action: "audio.transcribe", Components: []Component{per("seconds", 1, "0.1", 100)}},
		{ID: "file-process", Action: "file.process", Components: []Component{{Quantity: "megabytes", Per: 1, CostMicroUSD: 1_000,
			Tiers: []Tier{{UpTo: value.Count(10), Price: c("1")}, {Price: c("0.7")}}}}},
		{ID: "video", Action: "video.generate", Components: []Component{per("seconds", 1, "2", 8_000)}},
	}
}
