package value

import "testing"

func TestParseCredits(t *testing.T) {
	good := map[string]Credits{
		"0": 0, "1": 1000, "12.5": 12500, "0.125": 125, ".5": 500, "1000": 1000000,
		"-3": -3000, "+2.25": 2250, "007.100": 7100, "0.001": 1, "-0.001": -1,
	}
	for in, want := range good {
		got, err := ParseCredits(in)
		if err != nil || got != want {
			t.Errorf("ParseCredits(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-", ".", "1.", "1.2345", "abc", "1e3", " 1", "1,000", "--1", "0x10", "99999999999999999", "1.2.3"} {
		if _, err := ParseCredits(in); err == nil {
			t.Errorf("ParseCredits(%q) accepted", in)
		}
	}
}

func TestCreditsString(t *testing.T) {
	cases := map[Credits]string{0: "0", 1: "0.001", 10: "0.01", 12500: "12.5", 125: "0.125", 1000000: "1000", -1: "-0.001", -2500: "-2.5"}
	for in, want := range cases {
		if got := in.String(); got != want {
			t.Errorf("%d.String() = %q; want %q", int64(in), got, want)
		}
	}
	if got := Credits(1234567500).Display(); got != "1,234,567.5" {
		t.Errorf("Display = %q", got)
	}
	if got := Credits(-1000000).Display(); got != "-1,000" {
		t.Errorf("Display = %q", got)
	}
}

func FuzzCreditsRoundTrip(f *testing.F) {
	for _, s := range []string{"0", "12.5", "0.125", "-3", "1000", "007.100", ".5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCredits(s)
		if err != nil {
			return
		}
		back, err := ParseCredits(c.String())
		if err != nil || back != c {
			t.Fatalf("round trip %q -> %d -> %q -> %d, %v", s, int64(c), c.String(), int64(back), err)
		}
	})
}

func FuzzCreditsFromInt(f *testing.F) {
	f.Add(int64(0))
	f.Add(int64(-1))
	f.Add(int64(9223372036854775807))
	f.Fuzz(func(t *testing.T, v int64) {
		c := Credits(v)
		back, err := ParseCredits(c.String())
		if v > -1e18 && v < 1e18 && (err != nil || back != c) {
			t.Fatalf("%d -> %q -> %d, %v", v, c.String(), int64(back), err)
		}
	})
}
