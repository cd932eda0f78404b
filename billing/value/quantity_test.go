package value

import (
	"encoding/json"
	"testing"
)

func TestQuantityJSON(t *testing.T) {
	good := map[string]Quantity{`1000`: 1_000_000, `10.5`: 10_500, `"10.5"`: 10_500, `0`: 0, `0.001`: 1, `"0.5"`: 500, `1000000000000`: MaxQuantity}
	for in, want := range good {
		var q Quantity
		if err := json.Unmarshal([]byte(in), &q); err != nil || q != want {
			t.Errorf("%s -> %d, %v; want %d", in, q, err, want)
		}
	}
	// One parser for the estimate and the charge: a sign, an exponent, spaces inside the
	// value, more than 3 decimals, or more than 10^12 units are refused ("-0" priced as 0).
	for _, in := range []string{`1e3`, `1E3`, `0.0001`, `"abc"`, `true`, `""`, `-0`, `"-0"`, `-0.0`, `-2`, `"+1"`, `" 1"`, `"1 "`,
		`"1_000"`, `"1,000"`, `1.`, `.5`, `"0x10"`, `"∞"`, `1000000000000.001`, `99999999999999999999`, `"NaN"`} {
		var q Quantity
		if err := json.Unmarshal([]byte(in), &q); err == nil {
			t.Errorf("%s accepted as %d", in, q)
		}
	}
	var m map[string]Quantity
	if err := json.Unmarshal([]byte(`{"megabytes": 10.5, "input_tokens": 1000}`), &m); err != nil || m["megabytes"] != 10_500 || m["input_tokens"] != Count(1000) {
		t.Errorf("map: %v %v", m, err)
	}
	js, _ := json.Marshal(map[string]Quantity{"megabytes": 10_500})
	if string(js) != `{"megabytes":10.5}` {
		t.Errorf("marshal: %s", js)
	}
	if !Count(3).Whole() || Quantity(1500).Whole() || Count(1<<62) <= 0 {
		t.Error("Whole/Count")
	}
}

func TestMultiplier(t *testing.T) {
	good := map[string]Multiplier{"1": 10_000, "1.5": 15_000, "0.9": 9_000, "0.875": 8_750, "0.0001": 1, "2.25": 22_500, "0": 0}
	for in, want := range good {
		m, err := ParseMultiplier(in)
		if err != nil || m != want {
			t.Errorf("ParseMultiplier(%q) = %d, %v", in, m, err)
		}
		if back := want.String(); err == nil && MustMultiplier(back) != want {
			t.Errorf("%d prints as %q", want, back)
		}
	}
	for _, in := range []string{"", "-1", "1.23456", "x", "1.", "1e2", "99999999999999999"} {
		if _, err := ParseMultiplier(in); err == nil {
			t.Errorf("ParseMultiplier(%q) accepted", in)
		}
	}
	if Multiplier(0).Or1() != MultiplierOne || MustMultiplier("0.8").Or1() != 8000 {
		t.Error("Or1")
	}
	var v struct{ M Multiplier }
	if err := json.Unmarshal([]byte(`{"M":"0.8"}`), &v); err != nil || v.M != 8000 {
		t.Errorf("json: %v %v", v, err)
	}
}
