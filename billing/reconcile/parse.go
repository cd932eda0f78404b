// Package reconcile compares a vendor's usage export (day, model, units, cost) with the usage
// recorded by day and model (the usage_units_daily rollup of migration 0023) and keeps each
// import with its result.
package reconcile

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds of a vendor file.
const (
	MaxFileBytes = 960 << 10 // under the admin console's 1 MiB body limit, with room for the form
	MaxRows      = 20_000
	MaxModelLen  = 100
	// MaxUnits and MaxCostMicro bound one row (10^15 units, $10^9).
	MaxUnits     = 1_000_000_000_000_000
	MaxCostMicro = 1_000_000_000_000_000
)

// Row is one vendor line: usage of a model on a day, and its cost in micro-USD.
type Row struct {
	Day       time.Time
	Model     string
	Units     int64
	CostMicro int64
}

// LineError refuses a file: the line (1-based; for JSON, the row's position) and the reason.
type LineError struct {
	Line   int
	Reason string
}

func (e *LineError) Error() string {
	if e.Line == 0 {
		return e.Reason
	}
	return fmt.Sprintf("Line %d: %s", e.Line, e.Reason)
}

func lineErr(line int, format string, args ...any) *LineError {
	return &LineError{Line: line, Reason: fmt.Sprintf(format, args...)}
}

// Parse reads a CSV (header day,model,units,cost in any order) or a JSON array of
// {"day","model","units","cost"} objects; format is "csv" or "json", or "" to sniff. Every
// row is checked; the first bad one refuses the whole file.
func Parse(data []byte, format string) ([]Row, string, error) {
	if len(data) > MaxFileBytes {
		return nil, "", lineErr(0, "The file is larger than %d KiB.", MaxFileBytes>>10)
	}
	if !utf8.Valid(data) {
		return nil, "", lineErr(0, "The file is not UTF-8 text.")
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if format == "" {
		format = "csv"
		if len(trimmed) > 0 && trimmed[0] == '[' {
			format = "json"
		}
	}
	if len(trimmed) == 0 {
		return nil, format, lineErr(0, "The file is empty.")
	}
	var rows []Row
	var err error
	switch format {
	case "csv":
		rows, err = parseCSV(trimmed)
	case "json":
		rows, err = parseJSON(trimmed)
	default:
		return nil, format, lineErr(0, "Upload a .csv or .json file.")
	}
	if err != nil {
		return nil, format, err
	}
	if len(rows) == 0 {
		return nil, format, lineErr(0, "The file has no rows.")
	}
	return rows, format, nil
}

func parseCSV(data []byte) ([]Row, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, lineErr(1, "The header cannot be read: %s.", csvReason(err))
	}
	cols := map[string]int{}
	for i, h := range head {
		cols[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, want := range []string{"day", "model", "units", "cost"} {
		if _, ok := cols[want]; !ok {
			return nil, lineErr(1, "The header must name the columns day, model, units and cost; %q is missing.", want)
		}
	}
	var rows []Row
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return nil, lineErr(line, "%s.", csvReason(err))
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(head) {
			return nil, lineErr(line, "%d fields, the header has %d.", len(rec), len(head))
		}
		row, lerr := checkRow(line, rec[cols["day"]], rec[cols["model"]], rec[cols["units"]], rec[cols["cost"]], seen)
		if lerr != nil {
			return nil, lerr
		}
		if rows = append(rows, row); len(rows) > MaxRows {
			return nil, lineErr(line, "More than %d rows.", MaxRows)
		}
	}
	return rows, nil
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "malformed CSV (" + pe.Err.Error() + ")"
	}
	return "malformed CSV"
}

// jsonRow accepts numbers or strings for units and cost, as exports differ.
type jsonRow struct {
	Day   *string          `json:"day"`
	Model *string          `json:"model"`
	Units *json.RawMessage `json:"units"`
	Cost  *json.RawMessage `json:"cost"`
}

func parseJSON(data []byte) ([]Row, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('[') {
		return nil, lineErr(0, "The JSON must be an array of rows.")
	}
	var rows []Row
	seen := map[string]int{}
	for n := 1; dec.More(); n++ {
		var jr jsonRow
		if err := dec.Decode(&jr); err != nil {
			return nil, lineErr(n, "Not a row object {\"day\", \"model\", \"units\", \"cost\"} (%s).", jsonReason(err))
		}
		if jr.Day == nil || jr.Model == nil || jr.Units == nil || jr.Cost == nil {
			return nil, lineErr(n, "Each row needs day, model, units and cost.")
		}
		row, lerr := checkRow(n, *jr.Day, *jr.Model, scalar(*jr.Units), scalar(*jr.Cost), seen)
		if lerr != nil {
			return nil, lerr
		}
		if rows = append(rows, row); len(rows) > MaxRows {
			return nil, lineErr(n, "More than %d rows.", MaxRows)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, lineErr(len(rows)+1, "The JSON array is not closed.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, lineErr(0, "Nothing may follow the JSON array.")
	}
	return rows, nil
}

func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field + " has the wrong type"
	}
	if strings.HasPrefix(err.Error(), "json: unknown field") {
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "malformed JSON"
}

// scalar is a JSON number's text or a string's content.
func scalar(m json.RawMessage) string {
	var s string
	if json.Unmarshal(m, &s) == nil {
		return s
	}
	return string(m)
}

func checkRow(line int, day, model, units, cost string, seen map[string]int) (Row, *LineError) {
	for _, f := range []string{day, model, units, cost} {
		if strings.IndexFunc(f, unicode.IsControl) >= 0 {
			return Row{}, lineErr(line, "Control characters are not allowed.")
		}
	}
	var r Row
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(day))
	if err != nil || d.Year() < 2000 {
		return r, lineErr(line, "day %q is not a date YYYY-MM-DD.", clip(day))
	}
	r.Day = d
	r.Model = strings.TrimSpace(model)
	if r.Model == "" || len(r.Model) > MaxModelLen {
		return r, lineErr(line, "model must be 1 to %d characters.", MaxModelLen)
	}
	u, err := strconv.ParseInt(strings.TrimSpace(units), 10, 64)
	if err != nil || u < 0 || u > MaxUnits {
		return r, lineErr(line, "units %q must be a whole number from 0 to 10^15.", clip(units))
	}
	r.Units = u
	c, ok := parseMicro(strings.TrimSpace(cost))
	if !ok {
		return r, lineErr(line, "cost %q must be an amount in dollars with at most 6 decimals, e.g. 12.345678.", clip(cost))
	}
	r.CostMicro = c
	key := r.Day.Format(time.DateOnly) + "\x00" + r.Model
	if first, dup := seen[key]; dup {
		return r, lineErr(line, "%s %s is listed twice (first on line %d).", r.Day.Format(time.DateOnly), r.Model, first)
	}
	seen[key] = line
	return r, nil
}

func clip(s string) string {
	if len(s) > 40 {
		for i := 40; i > 0; i-- {
			if utf8.RuneStart(s[i]) {
				return s[:i] + "…"
			}
		}
	}
	return s
}

// parseMicro reads a non-negative decimal amount of dollars into micro-dollars, exactly.
func parseMicro(s string) (int64, bool) {
	s = strings.TrimPrefix(s, "$")
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && (!hasDot || frac == "") || len(frac) > 6 || len(whole) > 10 {
		return 0, false
	}
	for _, p := range []string{whole, frac} {
		for _, ch := range p {
			if ch < '0' || ch > '9' {
				return 0, false
			}
		}
	}
	if hasDot && frac == "" {
		return 0, false
	}
	var w int64
	if whole != "" {
		w, _ = strconv.ParseInt(whole, 10, 64)
	}
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
	}
	v := w*1_000_000 + f
	return v, v <= MaxCostMicro
}
