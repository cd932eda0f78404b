package pricing

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"creditline/billing/value"
)

func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	var e *value.Error
	if !errors.As(err, &e) || e.Code != value.EInvalid {
		t.Fatalf("err = %v, want invalid_request", err)
	}
	return e.Fields
}

func TestSeedValidates(t *testing.T) {
	if err := SeedBook().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := seedWithSchedule(t).Validate(); err != nil {
		t.Fatal(err)
	}
	b := SeedBook()
	if b.Version() != 1 || !b.Published() || b.Data().Schedule.Enabled {
		t.Errorf("seed book: v%d %s schedule %v", b.Version(), b.Status(), b.Data().Schedule.Enabled)
	}
}

func TestValidateRefuses(t *testing.T) {
	img := func(id string, match map[string]string) Rate {
		return Rate{ID: id, Action: "image.generate", Match: match, Components: []Component{{Quantity: "images", Per: 1, Price: value.Credit}}}
	}
	cases := []struct {
		name  string
		edit  func(d *BookData)
		field string
		says  string
	}{
		{"equally specific duplicate", func(d *BookData) { d.Rates = append(d.Rates, img("sdxl-again", attrs("model", "sdxl"))) },
			"rates.sdxl-again", "as specific as rate image-sdxl"},
		{"two one-attribute rates a request can both match", func(d *BookData) { d.Rates = append(d.Rates, img("any-hd", attrs("quality", "hd"))) },
			"rates.any-hd", "model=sdxl quality=hd matches both"},
		{"two catch-all rates", func(d *BookData) { d.Rates = append(d.Rates, Rate{ID: "file-2", Action: "file.process"}) },
			"rates.file-2", "no attributes matches both"},
		{"unknown action", func(d *BookData) { d.Rates = append(d.Rates, Rate{ID: "x", Action: "music.generate"}) },
			"rates.x.action", `"music.generate" is not an action`},
		{"unknown quantity", func(d *BookData) {
			d.Rates = append(d.Rates, Rate{ID: "x", Action: "video.generate", Match: attrs("model", "v"),
				Components: []Component{{Quantity: "frames", Per: 1, Price: value.Credit}}})
		}, "rates.x.components.frames", `does not take quantity "frames"`},
		{"unknown attribute", func(d *BookData) { d.Rates = append(d.Rates, img("x", attrs("colour", "red"))) },
			"rates.x.match.colour", `does not use attribute "colour"`},
		{"negative price", func(d *BookData) { d.Rates[0].Components[0].Price = -1 }, "rates.chat-gpt-4o.components.input_tokens", "must not be negative"},
		{"zero block", func(d *BookData) { d.Rates[0].Components[0].Per = 0 }, "rates.chat-gpt-4o.components.input_tokens.per", "from 1"},
		{"tiers not ascending", func(d *BookData) {
			d.Rates[10].Components[0].Tiers = []Tier{{UpTo: value.Count(10), Price: value.Credit}, {UpTo: value.Count(5), Price: value.Credit}, {Price: value.Credit}}
		}, "rates.file-process.components.megabytes.tiers", "must ascend"},
		{"last tier bounded", func(d *BookData) { d.Rates[10].Components[0].Tiers[1].UpTo = value.Count(20) },
			"rates.file-process.components.megabytes.tiers", "no upper bound"},
		{"duplicate rate id", func(d *BookData) { d.Rates = append(d.Rates, img("image-sdxl", attrs("model", "other"))) },
			"rates.#12.id", "used by another rate"},
		{"action with unknown quantity", func(d *BookData) { d.Actions[0].Quantities = append(d.Actions[0].Quantities, "frames") },
			"actions.chat.completion.quantities", `"frames" is not one of`},
		{"overlapping windows", func(d *BookData) {
			d.Schedule.Windows = append(d.Schedule.Windows, Window{Name: "late", Days: []string{"fri"}, FromHour: 20, ToHour: 24, Multiplier: value.MultiplierOne})
		}, "schedule.windows.#2", "overlaps window #0 (peak)"},
		{"window across midnight", func(d *BookData) {
			d.Schedule.Windows = append(d.Schedule.Windows, Window{Name: "night", FromHour: 22, ToHour: 2, Multiplier: value.MultiplierOne})
		}, "schedule.windows.#2.hours", "split a window"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := SeedBook().Data()
			c.edit(&d)
			d.Status = BookDraft
			b, err := NewBook(d)
			if err != nil {
				t.Fatal(err)
			}
			fields := fieldsOf(t, b.Validate())
			if !strings.Contains(fields[c.field], c.says) {
				t.Errorf("fields[%q] = %q, want it to say %q\nall: %v", c.field, fields[c.field], c.says, fields)
			}
			if _, err := b.Publish(time.Time{}, wednesdayNoon); value.ErrorCode(err) != value.EInvalid {
				t.Errorf("Publish = %v, want invalid_request", err)
			}
		})
	}
}

func TestValidateAllowsSettledOverlap(t *testing.T) {
	// model=dall-e-3 and quality=hd are equally specific, but model=dall-e-3 quality=hd settles every request matching both.
	d := SeedBook().Data()
	d.Actions[2].Attributes = []string{"model", "quality"}
	d.Rates = []Rate{
		{ID: "a", Action: "image.generate", Match: attrs("model", "dall-e-3")},
		{ID: "b", Action: "image.generate", Match: attrs("quality", "hd")},
		{ID: "c", Action: "image.generate", Match: attrs("model", "dall-e-3", "quality", "hd")},
	}
	b, err := NewBook(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestBrokenDraftRateRefusesToPrice(t *testing.T) {
	draft := NewDraftFrom(SeedBook(), wednesdayNoon)
	r := seedRates()[0]
	r.Components[0].Per = 0
	if err := draft.SetRate(r); err != nil {
		t.Fatal(err)
	}
	_, err := draft.Price(Request{Action: "chat.completion", Attributes: attrs("model", "gpt-4o"), At: wednesdayNoon})
	if value.ErrorCode(err) != value.EInvalid || !strings.Contains(err.Error(), "chat-gpt-4o cannot price") {
		t.Errorf("err = %v", err)
	}
}

func TestDraftEditAndDiff(t *testing.T) {
	live := SeedBook()
	draft := NewDraftFrom(live, wednesdayNoon)
	if draft.Version() != 2 || draft.Published() {
		t.Fatalf("draft v%d %s", draft.Version(), draft.Status())
	}
	gpt := seedRates()[0]
	gpt.Components[0].Price = value.MustCredits("3")
	must(t, draft.SetRate(gpt))
	must(t, draft.SetRate(Rate{ID: "image-flux", Action: "image.generate", Match: attrs("model", "flux"), Components: []Component{{Quantity: "images", Per: 1, Price: 8 * value.Credit}}}))
	must(t, draft.RemoveRate("video"))
	must(t, draft.SetScheduleEnabled(true))
	must(t, draft.SetBatchMultiplier(value.MustMultiplier("0.75")))
	var got []string
	for _, c := range Diff(live, draft) {
		got = append(got, c.String())
	}
	want := []string{
		"changed batch multiplier: ×0.8 → ×0.75",
		"changed schedule enabled: off → on",
		"changed rate chat-gpt-4o input_tokens: 2.5 per 1k tokens → 3 per 1k tokens",
		"added rate image-flux: applies to image.generate model=flux; images 8 per image",
		"removed rate video: applies to video.generate; seconds 2 per second; seconds vendor cost 8000 µUSD per second",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(Diff(live, NewDraftFrom(live, wednesdayNoon))) != 0 {
		t.Error("an untouched draft should not differ")
	}
	// The draft prices with its edits; the live book is untouched.
	q, err := draft.Price(Request{Action: "chat.completion", Attributes: attrs("model", "gpt-4o"), Quantities: qty("input_tokens", "1000", "output_tokens", "0"), At: wednesdayNoon})
	if err != nil || q.Credits != 3*value.Credit || q.PriceVersion != 2 {
		t.Errorf("draft price %s v%d %v", q.Credits, q.PriceVersion, err)
	}
	if _, err := live.Price(Request{Action: "video.generate", Quantities: qty("seconds", "0"), At: wednesdayNoon}); err != nil {
		t.Errorf("live lost video: %v", err)
	}
}

func TestDiffFieldLevelAddRemove(t *testing.T) {
	live := SeedBook()
	draft := NewDraftFrom(live, wednesdayNoon)
	r := seedRates()[11] // video
	r.Minimum = value.MustCredits("0.5")
	must(t, draft.SetRate(r))
	must(t, draft.SetSchedule(Schedule{Windows: live.Data().Schedule.Windows[:1]}))
	got := Diff(live, draft)
	want := []Change{
		{Kind: "removed", Subject: "schedule", Field: "window off-peak", Before: "every day 02:00–08:00 UTC ×0.8"},
		{Kind: "added", Subject: "rate video", Field: "minimum", After: "0.5"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diff = %#v", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestPublishedIsImmutable(t *testing.T) {
	live := SeedBook()
	for name, err := range map[string]error{
		"SetRate":            live.SetRate(seedRates()[0]),
		"RemoveRate":         live.RemoveRate("video"),
		"SetAction":          live.SetAction(seedActions()[0]),
		"RemoveAction":       live.RemoveAction("file.process"),
		"SetSchedule":        live.SetSchedule(Schedule{}),
		"SetScheduleEnabled": live.SetScheduleEnabled(true),
		"SetBatchMultiplier": live.SetBatchMultiplier(value.MultiplierOne),
		"SetNote":            live.SetNote("x"),
	} {
		if value.ErrorCode(err) != value.EConflict {
			t.Errorf("%s on a published book = %v, want conflict", name, err)
		}
	}
	if _, err := live.Publish(time.Time{}, wednesdayNoon); value.ErrorCode(err) != value.EConflict {
		t.Errorf("Publish twice = %v", err)
	}
	// Data is a deep copy: changing it changes nothing in the book.
	d := live.Data()
	d.Rates[0].Components[0].Price = 999 * value.Credit
	d.Rates[0].Match["model"] = "other"
	d.Rates[10].Components[0].Tiers[0].Price = 0
	d.Schedule.Windows[0].Days[0] = "sun"
	if !reflect.DeepEqual(live.Data(), SeedBook().Data()) {
		t.Error("mutating Data() changed the published book")
	}
}

func TestPublish(t *testing.T) {
	draft := NewDraftFrom(SeedBook(), wednesdayNoon)
	now := wednesdayNoon.Add(time.Hour)
	if _, err := draft.Publish(now.Add(-time.Minute), now); value.ErrorCode(err) != value.EInvalid {
		t.Errorf("publish in the past = %v", err)
	}
	pub, err := draft.Publish(time.Time{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Published() || !pub.EffectiveAt().Equal(now) || pub.Version() != 2 {
		t.Errorf("published: %s v%d at %s", pub.Status(), pub.Version(), pub.EffectiveAt())
	}
	if draft.Published() || !draft.EffectiveAt().IsZero() {
		t.Error("Publish changed the draft")
	}
	later, err := draft.Publish(now.Add(24*time.Hour), now)
	if err != nil || !later.EffectiveAt().Equal(now.Add(24*time.Hour)) {
		t.Errorf("scheduled publish: %v %v", later, err)
	}
}

func TestBookJSONRoundTrip(t *testing.T) {
	live := seedWithSchedule(t)
	js, err := json.Marshal(live)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{`"version":1`, `"status":"published"`, `"batch_multiplier":"0.8"`, `"price":"2.5"`,
		`"tiers":[{"up_to":10,"price":"1"},{"price":"0.7"}]`, `"days":["mon","tue","wed","thu","fri"]`} {
		if !strings.Contains(string(js), frag) {
			t.Errorf("JSON lacks %s", frag)
		}
	}
	var back Book
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Data(), live.Data()) {
		t.Error("round trip changed the data")
	}
	req := Request{Action: "file.process", Quantities: qty("megabytes", "12.5"), At: time.Date(2025, 3, 5, 15, 0, 0, 0, time.UTC)}
	a, errA := live.Price(req)
	b, errB := back.Price(req)
	if errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
		t.Errorf("prices differ after reload: %v %v / %v %v", a, errA, b, errB)
	}
	if err := json.Unmarshal([]byte(`{"version":0,"status":"draft"}`), &back); value.ErrorCode(err) != value.EInvalid {
		t.Errorf("version 0 loaded: %v", err)
	}
}

func TestLiveBook(t *testing.T) {
	var live LiveBook
	if _, err := live.Price(Request{Action: "file.process", At: wednesdayNoon}); value.ErrorCode(err) != value.ENotFound {
		t.Errorf("empty live book = %v", err)
	}
	v1 := SeedBook()
	must(t, live.Load([]*Book{v1}))
	draft := NewDraftFrom(v1, wednesdayNoon)
	must(t, draft.SetBatchMultiplier(value.MustMultiplier("0.5")))
	switchAt := wednesdayNoon.Add(48 * time.Hour)
	v2, err := draft.Publish(switchAt, wednesdayNoon)
	must(t, err)
	must(t, live.Add(v2))
	if err := live.Add(v2); value.ErrorCode(err) != value.EConflict {
		t.Errorf("adding v2 twice = %v", err)
	}
	if err := live.Add(draft); value.ErrorCode(err) != value.EInvalid {
		t.Errorf("adding a draft = %v", err)
	}
	for at, want := range map[time.Time]int{wednesdayNoon: 1, switchAt.Add(-time.Nanosecond): 1, switchAt: 2, switchAt.Add(time.Hour): 2} {
		b, err := live.Current(at)
		if err != nil || b.Version() != want {
			t.Errorf("Current(%s) = %v, %v; want v%d", at, b, err, want)
		}
	}
	if _, err := live.Current(SeedEpoch.Add(-time.Second)); value.ErrorCode(err) != value.ENotFound {
		t.Errorf("before the first version = %v", err)
	}
	req := Request{Action: "image.generate", Attributes: attrs("model", "sdxl"), Quantities: qty("images", "1"), Batch: true, At: switchAt}
	if q, err := live.Price(req); err != nil || q.Credits != value.MustCredits("2.5") || q.PriceVersion != 2 {
		t.Errorf("scheduled version price = %s v%d %v", q.Credits, q.PriceVersion, err)
	}
	if b, err := live.Version(1); err != nil || b != v1 {
		t.Errorf("Version(1) = %v %v", b, err)
	}
	if len(live.Versions()) != 2 {
		t.Errorf("versions = %d", len(live.Versions()))
	}
	if err := live.Load([]*Book{v1, v1}); value.ErrorCode(err) != value.EInvalid {
		t.Errorf("loading a version twice = %v", err)
	}
}

// Readers price while a writer publishes; run with -race.
func TestLiveBookConcurrent(t *testing.T) {
	var live LiveBook
	must(t, live.Load([]*Book{SeedBook()}))
	req := Request{Action: "chat.completion", Attributes: attrs("model", "gpt-4o"), Quantities: qty("input_tokens", "1000", "output_tokens", "0"), At: wednesdayNoon}
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 500 {
				if q, err := live.Price(req); err != nil || q.Credits != value.MustCredits("2.5") {
					t.Errorf("price %s %v", q.Credits, err)
					return
				}
			}
		}()
	}
	prev := SeedBook()
	for i := range 20 {
		d := NewDraftFrom(prev, wednesdayNoon)
		pub, err := d.Publish(wednesdayNoon.Add(time.Duration(i+1)*time.Hour), wednesdayNoon)
		must(t, err)
		must(t, live.Add(pub))
		prev = pub
	}
	for range 4 {
		<-done
	}
	if len(live.Versions()) != 21 {
		t.Errorf("versions = %d", len(live.Versions()))
	}
}

// TestWindowAtAndActions: the two read-outs billing's price list and dashboard use in place of
// the book's private data.
func TestWindowAtAndActions(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2025, 3, 5, h, 30, 0, 0, time.UTC) } // a Wednesday
	on, off := seedWithSchedule(t), SeedBook()
	for _, c := range []struct {
		book *Book
		at   time.Time
		want string
	}{
		{on, at(15), "peak"}, {on, at(3), "off-peak"}, {on, at(12), ""}, {on, at(22), ""},
		{off, at(15), ""}, {&Book{}, at(15), ""},
	} {
		if got := c.book.WindowAt(c.at); got != c.want {
			t.Errorf("WindowAt(%s), schedule on %v = %q, want %q", c.at.Format("15:04"), c.book.Data().Schedule.Enabled, got, c.want)
		}
	}
	acts := off.Actions()
	if len(acts) != len(off.Data().Actions) || acts[0].Key != "chat.completion" {
		t.Fatalf("Actions() = %v", acts)
	}
	acts[0].Quantities[0] = "changed"
	if off.Actions()[0].Quantities[0] == "changed" {
		t.Error("Actions() shares its slices with the published book")
	}
}

// TestValidateAction keeps one action's problems and those of its rates (under the action),
// and leaves out other work in progress.
func TestValidateAction(t *testing.T) {
	draft := NewDraftFrom(SeedBook(), wednesdayNoon)
	broken := seedRates()[0] // another action's rate, broken: not this action's problem
	broken.Components[0].Price = -1
	must(t, draft.SetRate(broken))
	must(t, draft.SetAction(Action{Key: "video.generate", Name: "Video", Quantities: []string{"seconds"}}))
	if err := draft.ValidateAction("video.generate"); err != nil {
		t.Errorf("a good action: %v", err)
	}
	must(t, draft.SetAction(Action{Key: "video.generate", Name: "", Quantities: []string{"frames"}}))
	f := fieldsOf(t, draft.ValidateAction("video.generate"))
	if f["actions.video.generate.name"] == "" || !strings.Contains(f["actions.video.generate.quantities"], "frames") {
		t.Errorf("fields %v", f)
	}
	if !strings.Contains(f["actions.video.generate"], "rate video:") {
		t.Errorf("the video rate prices seconds, which the action no longer takes: %v", f)
	}
	for k := range f {
		if strings.HasPrefix(k, "rates.") || strings.Contains(k, "chat") {
			t.Errorf("another action's problem kept: %s", k)
		}
	}
}

func TestActionBounds(t *testing.T) {
	draft := NewDraftFrom(SeedBook(), wednesdayNoon)
	must(t, draft.SetAction(Action{Key: "speech." + strings.Repeat("a", 64), Name: "Speech"}))
	must(t, draft.SetAction(Action{Key: "voice.clone", Name: strings.Repeat("é", 101)}))
	f := fieldsOf(t, draft.Validate())
	if f["actions.voice.clone.name"] == "" {
		t.Errorf("a 101-character name passes: %v", f)
	}
	found := false
	for k := range f {
		found = found || strings.HasPrefix(k, "actions.#") && strings.HasSuffix(k, ".key")
	}
	if !found {
		t.Errorf("a 71-character key passes: %v", f)
	}
}
