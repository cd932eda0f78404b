package pricing

import (
	"testing"
	"time"

	"creditline/billing/value"
)

func benchLive(b *testing.B) *LiveBook {
	var live LiveBook
	if err := live.Load([]*Book{seedWithSchedule(b)}); err != nil {
		b.Fatal(err)
	}
	return &live
}

// BenchmarkPriceChat prices one gpt-4o chat event on a pro plan from the live book.
func BenchmarkPriceChat(b *testing.B) {
	live := benchLive(b)
	req := Request{Action: "chat.completion", Attributes: map[string]string{"model": "gpt-4o"},
		Quantities: map[string]value.Quantity{"input_tokens": value.Count(1234), "output_tokens": value.Count(567)},
		Plan:       "pro", PlanMultiplier: value.MustMultiplier("0.9"), At: wednesdayNoon.Add(3 * time.Hour)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := live.Price(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPriceFileGraduated prices a graduated file.process event, batch, no plan.
func BenchmarkPriceFileGraduated(b *testing.B) {
	live := benchLive(b)
	req := Request{Action: "file.process", Quantities: map[string]value.Quantity{"megabytes": value.MustQuantity("10.5")},
		Batch: true, At: wednesdayNoon}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := live.Price(req); err != nil {
			b.Fatal(err)
		}
	}
}
