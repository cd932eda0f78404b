package reconcile

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRefusesWithLineAndReason(t *testing.T) {
	for _, c := range []struct {
		name, data, format string
		line               int
		reason             string
	}{
		{"no header column", "day,model,units\n", "csv", 1, `"cost" is missing`},
		{"bad units", "day,model,units,cost\n2026-11-01,gpt-4o,12,1.5\n2026-11-02,gpt-4o,-3,1\n", "csv", 3, "units"},
		{"too many decimals", "day,model,units,cost\n2026-11-01,gpt-4o,12,1.1234567\n", "csv", 2, "cost"},
		{"duplicate", "day,model,units,cost\n2026-11-01,a,1,1\n2026-11-01,a,2,2\n", "csv", 3, "twice"},
		{"short row", "day,model,units,cost\n2026-11-01,a,1\n", "csv", 2, "fields"},
		{"control", "day,model,units,cost\n2026-11-01,a\x01b,1,1\n", "csv", 2, "Control"},
		{"json missing", `[{"day":"2026-11-01","model":"a","units":1,"cost":"1"},{"day":"2026-11-02","model":"a","units":1}]`, "json", 2, "needs"},
		{"json unknown", `[{"day":"2026-11-01","model":"a","units":1,"cost":1,"x":1}]`, "json", 1, "unknown field"},
		{"json open", `[{"day":"2026-11-01","model":"a","units":1,"cost":1}`, "json", 2, "not closed"},
		{"empty", "", "csv", 0, "empty"},
	} {
		_, _, err := Parse([]byte(c.data), c.format)
		var le *LineError
		if !errors.As(err, &le) || le.Line != c.line || !strings.Contains(le.Reason, c.reason) {
			t.Errorf("%s: %v, want line %d and %q", c.name, err, c.line, c.reason)
		}
	}
}

func TestParseCSVAndJSON(t *testing.T) {
	csvRows, f, err := Parse([]byte("\xef\xbb\xbfModel,Day,Cost,Units\r\ngpt-4o,2026-11-01,$12.5,1000\n"), "")
	if err != nil || f != "csv" || len(csvRows) != 1 || csvRows[0].CostMicro != 12_500_000 || csvRows[0].Units != 1000 {
		t.Fatalf("csv: %+v %s %v", csvRows, f, err)
	}
	jsonRows, f, err := Parse([]byte(` [{"day":"2026-11-01","model":"gpt-4o","units":"1000","cost":12.5}]`), "")
	if err != nil || f != "json" || len(jsonRows) != 1 || jsonRows[0] != csvRows[0] {
		t.Fatalf("json: %+v %s %v", jsonRows, f, err)
	}
}

func TestDiffers(t *testing.T) {
	for _, c := range []struct {
		v, r int64
		want bool
	}{{103, 100, false}, {104, 100, true}, {97, 100, false}, {96, 100, true}, {0, 0, false}, {1, 0, true}, {105, 100, true}} {
		if got := Differs(c.v, c.r); got != c.want {
			t.Errorf("Differs(%d, %d) = %v", c.v, c.r, got)
		}
	}
}

// FuzzParseVendorFile: any input is parsed or refused with a line error; never a panic, and
// every accepted row is within bounds.
func FuzzParseVendorFile(f *testing.F) {
	f.Add([]byte("day,model,units,cost\n2026-11-01,gpt-4o,12,1.5\n"), "csv")
	f.Add([]byte(`[{"day":"2026-11-01","model":"a","units":1,"cost":"0.000001"}]`), "json")
	f.Add([]byte("day,model,units,cost\n\"2026-11-01,a,1,1\n"), "")
	f.Fuzz(func(t *testing.T, data []byte, format string) {
		rows, _, err := Parse(data, format)
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		for _, r := range rows {
			if r.Units < 0 || r.Units > MaxUnits || r.CostMicro < 0 || r.CostMicro > MaxCostMicro || r.Model == "" || len(r.Model) > MaxModelLen {
				t.Fatalf("row out of bounds: %+v", r)
			}
		}
	})
}
