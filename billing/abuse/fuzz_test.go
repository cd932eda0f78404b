package abuse_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"creditline/billing"
	"creditline/billing/abuse"
)

// FuzzResolution: whatever JSON a client sends as a resolution, an accepted one names a
// known action and carries a note of 1 to 2000 characters of text without control characters.
func FuzzResolution(f *testing.F) {
	for _, s := range []string{`{"action":"dismiss","note":"ok"}`, `{"action":"suspend","note":" \u0000 "}`,
		`{"action":"require_verification","note":"` + strings.Repeat("é", 2001) + `"}`, `{"action":"ban"}`, `[]`, `{"note":"\t"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var r abuse.Resolution
		if json.Unmarshal(raw, &r) != nil {
			return
		}
		err := r.Validate()
		if err != nil {
			if billing.ErrorCode(err) != billing.EInvalid {
				t.Fatalf("%q: %v is not invalid_request", raw, err)
			}
			return
		}
		switch r.Action {
		case abuse.ActionDismiss, abuse.ActionSuspend, abuse.ActionRequireVerify:
		default:
			t.Fatalf("accepted action %q", r.Action)
		}
		if n := utf8.RuneCountInString(r.Note); n == 0 || n > 2000 || billing.CheckText("note", r.Note) != nil {
			t.Fatalf("accepted note %q", r.Note)
		}
	})
}

// FuzzThresholds: a stored or typed thresholds document either fails validation or has every
// threshold within its bounds (at least 1, so no detector flags every account).
func FuzzThresholds(f *testing.F) {
	f.Add([]byte(`{"velocity_multiplier":10}`))
	f.Add([]byte(`{"velocity_multiplier":-1,"checkout_attempts":1e3}`))
	f.Add([]byte(`{"rate_limit_refusals":0}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		th := abuse.DefaultThresholds()
		if json.Unmarshal(raw, &th) != nil || th.Validate() != nil {
			return
		}
		for _, n := range abuse.ThresholdNames() {
			if th.Field(n) < 1 || th.Field(n) > 1_000_000_000 {
				t.Fatalf("%s = %d accepted", n, th.Field(n))
			}
		}
	})
}
