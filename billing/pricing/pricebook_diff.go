package pricing

import (
	"fmt"
	"slices"
	"strings"

	"creditline/billing/value"
)

// Change is one readable difference between two price books.
type Change struct {
	Kind    string `json:"kind"`    // "added", "removed" or "changed"
	Subject string `json:"subject"` // "rate chat-gpt-4o", "action file.process", "schedule", "batch"
	Field   string `json:"field,omitempty"`
	Before  string `json:"before,omitempty"`
	After   string `json:"after,omitempty"`
}

// String reads like "changed rate chat-gpt-4o input_tokens: 2.5 per 1k tokens → 3 per 1k tokens".
func (c Change) String() string {
	subject := c.Subject
	if c.Field != "" {
		subject += " " + c.Field
	}
	switch c.Kind {
	case "added":
		return "added " + subject + ": " + c.After
	case "removed":
		return "removed " + subject + ": " + c.Before
	}
	return "changed " + subject + ": " + orDash(c.Before) + " → " + orDash(c.After)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// Diff lists what changes from live to draft: book settings first, then actions
// by key, then rates by id. A nil book counts as empty.
func Diff(live, draft *Book) []Change {
	var a, b BookData
	if live != nil {
		a = live.data
	}
	if draft != nil {
		b = draft.data
	}
	out := diffFields("book", bookFields(a), bookFields(b))
	out = append(out, diffSets("action", keyed(a.Actions, actionKey, actionFields), keyed(b.Actions, actionKey, actionFields))...)
	out = append(out, diffSets("rate", keyed(a.Rates, rateKey, rateFields), keyed(b.Rates, rateKey, rateFields))...)
	return out
}

type field struct{ name, text string }

func actionKey(a Action) string { return a.Key }
func rateKey(r Rate) string     { return r.ID }

func keyed[T any](items []T, key func(T) string, fields func(T) []field) map[string][]field {
	m := make(map[string][]field, len(items))
	for _, it := range items {
		m[key(it)] = fields(it)
	}
	return m
}

// diffSets compares items by key: whole items added or removed, fields changed.
func diffSets(kind string, before, after map[string][]field) []Change {
	keys := make([]string, 0, len(before)+len(after))
	for k := range before {
		keys = append(keys, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []Change
	for _, k := range keys {
		subject := kind + " " + k
		fb, inB := before[k]
		fa, inA := after[k]
		switch {
		case !inB:
			out = append(out, Change{Kind: "added", Subject: subject, After: summary(fa)})
		case !inA:
			out = append(out, Change{Kind: "removed", Subject: subject, Before: summary(fb)})
		default:
			out = append(out, diffFields(subject, fb, fa)...)
		}
	}
	return out
}

func summary(fs []field) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		if f.text != "" {
			parts = append(parts, f.name+" "+f.text)
		}
	}
	return strings.Join(parts, "; ")
}

// diffFields compares two ordered field lists by name. A field named
// "schedule: enabled" carries its own subject ("schedule").
func diffFields(subject string, before, after []field) []Change {
	var out []Change
	seen := map[string]bool{}
	names := make([]string, 0, len(before)+len(after))
	for _, f := range append(slices.Clone(before), after...) {
		if !seen[f.name] {
			seen[f.name] = true
			names = append(names, f.name)
		}
	}
	for _, n := range names {
		b, a := fieldText(before, n), fieldText(after, n)
		if a == b {
			continue
		}
		c := Change{Kind: "changed", Subject: subject, Field: n, Before: b, After: a}
		if b == "" {
			c.Kind = "added"
		} else if a == "" {
			c.Kind = "removed"
		}
		if s, f, ok := strings.Cut(n, ": "); ok {
			c.Subject, c.Field = s, f
		}
		out = append(out, c)
	}
	return out
}

func fieldText(fs []field, name string) string {
	for _, f := range fs {
		if f.name == name {
			return f.text
		}
	}
	return ""
}

func bookFields(d BookData) []field {
	on := "off"
	if d.Schedule.Enabled {
		on = "on"
	}
	fs := []field{{"batch: multiplier", "×" + d.BatchMultiplier.Or1().String()}, {"schedule: enabled", on}}
	for _, w := range d.Schedule.Windows {
		fs = append(fs, field{"schedule: window " + w.Name, windowText(w)})
	}
	return fs
}

func windowText(w Window) string {
	days := "every day"
	if len(w.Days) > 0 {
		days = strings.Join(w.Days, ",")
	}
	return fmt.Sprintf("%s %02d:00–%02d:00 UTC ×%s", days, w.FromHour, w.ToHour, w.Multiplier.Or1())
}

func actionFields(a Action) []field {
	return []field{
		{"name", a.Name},
		{"quantities", strings.Join(a.Quantities, ", ")},
		{"attributes", strings.Join(a.Attributes, ", ")},
	}
}

func rateFields(r Rate) []field {
	applies := strings.TrimSpace(r.Action + " " + matchText(r.Match))
	fs := []field{{"applies to", applies}}
	if r.Flat != 0 {
		fs = append(fs, field{"per call", r.Flat.String()})
	}
	for _, c := range r.Components {
		fs = append(fs, field{c.Quantity, strings.Join(tierTexts(c), ", ")})
		if c.CostMicroUSD != 0 {
			fs = append(fs, field{c.Quantity + " vendor cost", fmt.Sprintf("%d µUSD per %s", c.CostMicroUSD, blockText(c.Quantity, c.Per))})
		}
	}
	if r.FlatCostMicroUSD != 0 {
		fs = append(fs, field{"vendor cost per call", fmt.Sprintf("%d µUSD", r.FlatCostMicroUSD)})
	}
	if r.Minimum != 0 {
		fs = append(fs, field{"minimum", r.Minimum.String()})
	}
	if m := r.Multiplier.Or1(); m != value.MultiplierOne {
		fs = append(fs, field{"multiplier", "×" + m.String()})
	}
	if r.Premium {
		fs = append(fs, field{"premium", "yes"})
	}
	return fs
}
