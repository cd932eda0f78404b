package billing

import (
	"strings"
	"testing"
)

func TestCheckText(t *testing.T) {
	for _, s := range []string{"", "plain", "tab\there", "lines\r\nand\n", "ünïcødé ✓", "\u00a0nbsp"} {
		if err := CheckText("f", s); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
	}
	for _, s := range []string{"a\x00b", "\x01", "bell\a", "\x1b[31m", "bad \xff utf-8", "\xed\xa0\x80", "del\x7f", "next\u0085line", "csi\u009b31m", "\u0080"} {
		err := CheckText("f", s)
		if be, ok := err.(*Error); !ok || be.Code != EInvalid || be.Fields["f"] == "" {
			t.Errorf("%q: %v, want invalid_request naming f", s, err)
		}
	}
}

func TestCheckJSONText(t *testing.T) {
	ok := []string{`{"a":"b"}`, `{"a":"tab\tnew\nline\r"}`, `{"a":"\\u0000 written out"}`, `{"a":"\\b"}`, `{"a":"\u00e9\ud83d\ude00"}`,
		`{"a":"\uFFFD"}`, `{"a":`, `not json`, `{"a":"x\\"}`}
	for _, s := range ok {
		if err := CheckJSONText([]byte(s)); err != nil {
			t.Errorf("%s refused: %v", s, err)
		}
	}
	bad := map[string]string{
		`{"a":"\u0000"}`:            "a",
		`{"a":{"b":[1,"x\u001f"]}}`: "a.b[1]",
		`{"a":"\b"}`:                "a",
		`{"a":[{"c":"\f"}]}`:        "a[0].c",
		`{"a":{"k\u0000":1}}`:       "a",
		`{"\u0001":1}`:              "body",
		`"\u0000"`:                  "body",
		`{"a":"\ud800"}`:            "a",
		`{"a":"\uDC00x"}`:           "a",
		"{\"a\":\"\xff\"}":          "a",
		"{\"a\":\"x\x7f\"}":         "a",
		"{\"a\":[\"\u0085\"]}":      "a[0]",
		"{\"k\u009b\":1}":           "body",
		`{"a":"\\","b":"\u0002"}`:   "b",
		`{"` + strings.Repeat("k", 100) + `":"\u0000"}`: strings.Repeat("k", 64) + "…",
	}
	for s, field := range bad {
		err := CheckJSONText([]byte(s))
		if be, ok := err.(*Error); !ok || be.Fields[field] == "" {
			t.Errorf("%s: %v, want a refusal naming %s", s, err, field)
		}
	}
}

func TestJSONDepthAndMetadata(t *testing.T) {
	for s, want := range map[string]int{`1`: 0, `{}`: 1, `[[{}]]`: 3, `{"a":"[[[["}`: 1, `{"a":"\"[["}`: 1, `[1,[2],[[3]]]`: 3} {
		if got := JSONDepth([]byte(s)); got != want {
			t.Errorf("depth of %s: %d, want %d", s, got, want)
		}
	}
	keys := make([]string, 51)
	for i := range keys {
		keys[i] = `"k` + strings.Repeat("x", i) + `":1`
	}
	for _, s := range []string{"", "null", `{}`, `{"a":{"b":{"c":1}}}`, "{" + strings.Join(keys[:50], ",") + "}", ` {"a": 1} `} {
		if err := CheckMetadata([]byte(s)); err != nil {
			t.Errorf("metadata %.60s refused: %v", s, err)
		}
	}
	for _, s := range []string{`[]`, `"s"`, `1`, `{"a":{"b":{"c":{"d":1}}}}`, `{"a":[[[1]]]}`, "{" + strings.Join(keys, ",") + "}",
		`{"a":"` + strings.Repeat("x", 4100) + `"}`} {
		if be, ok := CheckMetadata([]byte(s)).(*Error); !ok || be.Fields["metadata"] == "" {
			t.Errorf("metadata %.60s accepted", s)
		}
	}
}
