package pricing

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"creditline/billing/value"
)

// wednesdayNoon is outside every seed schedule window.
var wednesdayNoon = time.Date(2025, 3, 5, 12, 0, 0, 0, time.UTC)

func qty(pairs ...string) map[string]value.Quantity {
	m := map[string]value.Quantity{}
	for i := 0; i < len(pairs); i += 2 {
		m[pairs[i]] = value.MustQuantity(pairs[i+1])
	}
	return m
}

func attrs(pairs ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

func seedWithSchedule(t testing.TB) *Book {
	t.Helper()
	d := SeedBook().Data()
	d.Schedule.Enabled = true
	b, err := NewBook(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPriceGolden(t *testing.T) {
	gpt4o, dalle := attrs("model", "gpt-4o"), attrs("model", "dall-e-3")
	cases := []struct {
		name   string
		req    Request
		want   string // credits
		rate   string
		costUS int64 // vendor cost, micro-dollars; -1 to skip
	}{
		{"gpt-4o 1000 in + 1000 out", Request{Action: "chat.completion", Attributes: gpt4o, Quantities: qty("input_tokens", "1000", "output_tokens", "1000")}, "12.5", "chat-gpt-4o", 12_500},
		{"gpt-4o one input token rounds up", Request{Action: "chat.completion", Attributes: gpt4o, Quantities: qty("input_tokens", "1", "output_tokens", "0")}, "0.003", "chat-gpt-4o", 3},
		{"gpt-4o nothing", Request{Action: "chat.completion", Attributes: gpt4o, Quantities: qty("input_tokens", "0", "output_tokens", "0")}, "0", "chat-gpt-4o", 0},
		{"gpt-4o 1234 in 567 out", Request{Action: "chat.completion", Attributes: gpt4o, Quantities: qty("input_tokens", "1234", "output_tokens", "567")}, "8.755", "chat-gpt-4o", -1},
		{"small-open flat per call", Request{Action: "chat.completion", Attributes: attrs("model", "small-open"), Quantities: qty("input_tokens", "5000", "output_tokens", "900")}, "1", "chat-small-open", 200},
		{"text 500 words", Request{Action: "text.generate", Quantities: qty("words", "500")}, "1", "text", 1_000},
		{"text 250 words", Request{Action: "text.generate", Quantities: qty("words", "250")}, "0.5", "text", 500},
		{"text creative 500 words", Request{Action: "text.generate", Attributes: attrs("style", "creative"), Quantities: qty("words", "500")}, "1.5", "text-creative", 1_000},
		{"text other style", Request{Action: "text.generate", Attributes: attrs("style", "formal"), Quantities: qty("words", "1000")}, "2", "text", -1},
		{"sdxl one image", Request{Action: "image.generate", Attributes: attrs("model", "sdxl"), Quantities: qty("images", "1")}, "5", "image-sdxl", 4_000},
		{"sdxl four images", Request{Action: "image.generate", Attributes: attrs("model", "sdxl"), Quantities: qty("images", "4")}, "20", "image-sdxl", 16_000},
		{"dall-e-3", Request{Action: "image.generate", Attributes: dalle, Quantities: qty("images", "1")}, "10", "image-dall-e-3", 40_000},
		{"dall-e-3 standard quality", Request{Action: "image.generate", Attributes: attrs("model", "dall-e-3", "quality", "standard"), Quantities: qty("images", "1")}, "10", "image-dall-e-3", -1},
		{"dall-e-3 hd", Request{Action: "image.generate", Attributes: attrs("model", "dall-e-3", "quality", "hd"), Quantities: qty("images", "1")}, "25", "image-dall-e-3-hd", 80_000},
		{"mj-equivalent", Request{Action: "image.generate", Attributes: attrs("model", "mj-equivalent"), Quantities: qty("images", "1")}, "15", "image-mj-equivalent", 50_000},
		{"embedding 1k tokens", Request{Action: "embedding.create", Quantities: qty("input_tokens", "1000")}, "0.02", "embedding", 20},
		{"embedding 25 tokens is half a millicredit", Request{Action: "embedding.create", Quantities: qty("input_tokens", "25")}, "0.001", "embedding", 1},
		{"embedding 24 tokens rounds down", Request{Action: "embedding.create", Quantities: qty("input_tokens", "24")}, "0", "embedding", -1},
		{"audio 60 s", Request{Action: "audio.transcribe", Quantities: qty("seconds", "60")}, "6", "audio-transcribe", 6_000},
		{"audio 1.5 s", Request{Action: "audio.transcribe", Quantities: qty("seconds", "1.5")}, "0.15", "audio-transcribe", 150},
		{"file 0 MB", Request{Action: "file.process", Quantities: qty("megabytes", "0")}, "0", "file-process", 0},
		{"file 3.3 MB", Request{Action: "file.process", Quantities: qty("megabytes", "3.3")}, "3.3", "file-process", -1},
		{"file exactly 10 MB", Request{Action: "file.process", Quantities: qty("megabytes", "10")}, "10", "file-process", 10_000},
		{"file 10.5 MB", Request{Action: "file.process", Quantities: qty("megabytes", "10.5")}, "10.35", "file-process", 10_500},
		{"file 20 MB", Request{Action: "file.process", Quantities: qty("megabytes", "20")}, "17", "file-process", -1},
		{"video 5 s", Request{Action: "video.generate", Quantities: qty("seconds", "5")}, "10", "video", 40_000},
		{"video 0.5 s", Request{Action: "video.generate", Quantities: qty("seconds", "0.5")}, "1", "video", -1},
	}
	book := SeedBook()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.req.At = wednesdayNoon
			q, err := book.Price(c.req)
			if err != nil {
				t.Fatal(err)
			}
			if q.Credits != value.MustCredits(c.want) || q.Breakdown.Total != q.Credits {
				t.Errorf("credits = %s (total %s), want %s\n%s", q.Credits, q.Breakdown.Total, c.want, q.Breakdown)
			}
			if q.RateID != c.rate || q.PriceVersion != 1 {
				t.Errorf("rate %s v%d, want %s v1", q.RateID, q.PriceVersion, c.rate)
			}
			if c.costUS >= 0 && q.VendorCostMicroUSD != c.costUS {
				t.Errorf("vendor cost = %d µUSD, want %d", q.VendorCostMicroUSD, c.costUS)
			}
		})
	}
}

func TestPriceMultipliers(t *testing.T) {
	gpt := Request{Action: "chat.completion", Attributes: attrs("model", "gpt-4o"), Quantities: qty("input_tokens", "1000", "output_tokens", "1000")}
	sdxl := Request{Action: "image.generate", Attributes: attrs("model", "sdxl"), Quantities: qty("images", "1")}
	creative := Request{Action: "text.generate", Attributes: attrs("style", "creative"), Quantities: qty("words", "500")}
	oneToken := Request{Action: "chat.completion", Attributes: attrs("model", "gpt-4o"), Quantities: qty("input_tokens", "1", "output_tokens", "0")}
	with := func(r Request, plan string, m string, batch bool, at time.Time) Request {
		r.Plan, r.Batch, r.At = plan, batch, at
		if m != "" {
			r.PlanMultiplier = value.MustMultiplier(m)
		}
		return r
	}
	wed := func(h int) time.Time { return time.Date(2025, 3, 5, h, 30, 0, 0, time.UTC) }
	sat := func(h int) time.Time { return time.Date(2025, 3, 8, h, 30, 0, 0, time.UTC) }
	cases := []struct {
		name     string
		schedule bool
		req      Request
		want     string
		factors  []string
	}{
		{"plan pro ×0.9", false, with(gpt, "pro", "0.9", false, wednesdayNoon), "11.25", []string{"plan pro ×0.9"}},
		{"plan enterprise ×0.8", false, with(gpt, "enterprise", "0.8", false, wednesdayNoon), "10", []string{"plan enterprise ×0.8"}},
		{"plan basic ×1 is not listed", false, with(gpt, "basic", "1", false, wednesdayNoon), "12.5", nil},
		{"schedule off ignores peak", false, with(sdxl, "", "", false, wed(15)), "5", nil},
		{"weekday 15:00 peak", true, with(sdxl, "", "", false, wed(15)), "7.5", []string{"schedule peak ×1.5"}},
		{"weekday 14:00 starts peak", true, with(sdxl, "", "", false, wed(14)), "7.5", []string{"schedule peak ×1.5"}},
		{"weekday 22:00 is after peak", true, with(sdxl, "", "", false, wed(22)), "5", nil},
		{"weekday 03:00 off-peak", true, with(sdxl, "", "", false, wed(3)), "4", []string{"schedule off-peak ×0.8"}},
		{"weekday 08:00 is after off-peak", true, with(sdxl, "", "", false, wed(8)), "5", nil},
		{"saturday 15:00 has no peak", true, with(sdxl, "", "", false, sat(15)), "5", nil},
		{"saturday 03:00 off-peak", true, with(sdxl, "", "", false, sat(3)), "4", []string{"schedule off-peak ×0.8"}},
		{"schedule uses UTC", true, with(sdxl, "", "", false, wed(15).In(time.FixedZone("X", -10*3600))), "7.5", []string{"schedule peak ×1.5"}},
		{"batch ×0.8", false, with(sdxl, "", "", true, wednesdayNoon), "4", []string{"batch ×0.8"}},
		{"all four in order", true, with(creative, "pro", "0.9", true, wed(15)), "1.62",
			[]string{"plan pro ×0.9", "feature style=creative ×1.5", "schedule peak ×1.5", "batch ×0.8"}},
		// 0.0025 × 0.9 = 0.00225 -> 0.002; rounding before the plan would give 0.003.
		{"round once, after the plan", false, with(oneToken, "pro", "0.9", false, wednesdayNoon), "0.002", []string{"plan pro ×0.9"}},
	}
	plain, scheduled := SeedBook(), seedWithSchedule(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			book := plain
			if c.schedule {
				book = scheduled
			}
			q, err := book.Price(c.req)
			if err != nil {
				t.Fatal(err)
			}
			if q.Credits != value.MustCredits(c.want) {
				t.Errorf("credits = %s, want %s\n%s", q.Credits, c.want, q.Breakdown)
			}
			var got []string
			for _, m := range q.Breakdown.Multipliers {
				got = append(got, m.Text())
			}
			if strings.Join(got, "|") != strings.Join(c.factors, "|") {
				t.Errorf("multipliers = %q, want %q", got, c.factors)
			}
		})
	}
}

func TestPriceMinimum(t *testing.T) {
	draft := NewDraftFrom(SeedBook(), wednesdayNoon)
	r := SeedBook().Data().Rates[len(seedRates())-1] // video
	r.Minimum = value.MustCredits("1.5")
	if err := draft.SetRate(r); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{"0": "1.5", "0.5": "1.5", "1": "2"} {
		q, err := draft.Price(Request{Action: "video.generate", Quantities: qty("seconds", in), At: wednesdayNoon, PlanMultiplier: value.MustMultiplier("0.8")})
		if err != nil {
			t.Fatal(err)
		}
		// The minimum floors the base price; the plan multiplier then applies.
		base := value.MustCredits(want)
		if q.Breakdown.Subtotal != base || q.Credits != base*8/10 {
			t.Errorf("%s s: subtotal %s credits %s, want %s and %s", in, q.Breakdown.Subtotal, q.Credits, base, base*8/10)
		}
		if (q.Breakdown.Minimum != 0) != (want == "1.5") {
			t.Errorf("%s s: minimum line %s", in, q.Breakdown.Minimum)
		}
	}
}

func TestBreakdownReadable(t *testing.T) {
	q, err := SeedBook().Price(Request{Action: "chat.completion", Attributes: attrs("model", "gpt-4o"),
		Quantities: qty("input_tokens", "1000", "output_tokens", "1000"), Plan: "pro", PlanMultiplier: value.MustMultiplier("0.9"), At: wednesdayNoon})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"input_tokens 1000 × 2.5 per 1k tokens = 2.5",
		"output_tokens 1000 × 10 per 1k tokens = 10",
		"subtotal 12.5",
		"plan pro ×0.9",
		"total 11.25",
	}, "\n")
	if got := q.Breakdown.String(); got != want {
		t.Errorf("breakdown:\n%s\nwant:\n%s", got, want)
	}
	if !q.Premium {
		t.Error("gpt-4o should be premium")
	}
	js, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{`"credits":"11.25"`, `"subtotal":"12.5"`, `"quantity":1000`, `"unit_rate":"2.5 per 1k tokens"`,
		`"factor":"0.9"`, `"text":"plan pro ×0.9"`, `"price_version":1`, `"vendor_cost_micro_usd":12500`} {
		if !strings.Contains(string(js), frag) {
			t.Errorf("quote JSON lacks %s:\n%s", frag, js)
		}
	}
	var back Quote
	if err := json.Unmarshal(js, &back); err != nil || !reflect.DeepEqual(back, q) {
		t.Errorf("stored quote does not read back: %v\n%+v\n%+v", err, back, q)
	}
}

func TestBreakdownGraduated(t *testing.T) {
	q, err := SeedBook().Price(Request{Action: "file.process", Quantities: qty("megabytes", "10.5"), At: wednesdayNoon})
	if err != nil {
		t.Fatal(err)
	}
	want := "megabytes 10 × 1 per MB (first 10 MB) = 10\nmegabytes 0.5 × 0.7 per MB (over 10 MB) = 0.35\nsubtotal 10.35\ntotal 10.35"
	if got := q.Breakdown.String(); got != want {
		t.Errorf("breakdown:\n%s\nwant:\n%s", got, want)
	}
}

func TestCatalog(t *testing.T) {
	cat := SeedBook().Catalog(value.MustMultiplier("0.9"))
	if len(cat) != 7 || cat[0].Key != "chat.completion" || len(cat[0].Rates) != 2 {
		t.Fatalf("catalog: %+v", cat)
	}
	got := map[string]string{}
	for _, a := range cat {
		for _, r := range a.Rates {
			got[r.ID] = strings.Join(r.Prices, "; ")
		}
	}
	want := map[string]string{
		"chat-gpt-4o":     "2.25 per 1k tokens; 9 per 1k tokens",
		"chat-small-open": "0.9 per call",
		"file-process":    "0.9 per MB (first 10 MB); 0.63 per MB (over 10 MB)",
		"embedding":       "0.018 per 1k tokens",
		"text-creative":   "1.35 per 500 words", // pro 0.9 × creative 1.5: what the customer pays
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q, want %q", id, got[id], w)
		}
	}
	if list := SeedBook().Catalog(0); list[2].Rates[0].Prices[0] != "5 per image" {
		t.Errorf("list price: %v", list[2].Rates[0])
	}
}
