package pricing

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"creditline/billing/value"
)

// Action is one entry of the catalog: what a customer can do and what it is measured in.
type Action struct {
	Key        string   `json:"key"`                  // "chat.completion"
	Name       string   `json:"name"`                 // "Chat completion"
	Quantities []string `json:"quantities"`           // names from KnownQuantities
	Attributes []string `json:"attributes,omitempty"` // names from KnownAttributes
}

// Rate prices an action when every attribute in Match equals the request's value.
// The matching rate naming the most attributes wins.
type Rate struct {
	ID     string            `json:"id"`
	Action string            `json:"action"`
	Match  map[string]string `json:"match,omitempty"`
	// Flat is charged once per call.
	Flat       value.Credits `json:"flat,omitempty"`
	Components []Component   `json:"components,omitempty"`
	// Minimum is a floor on Flat plus the components, before any multiplier.
	Minimum value.Credits `json:"minimum,omitempty"`
	// Multiplier is the feature multiplier (e.g. style=creative ×1.5); zero means ×1.
	Multiplier       value.Multiplier `json:"multiplier,omitempty"`
	FlatCostMicroUSD int64            `json:"flat_cost_micro_usd,omitempty"`
	// Premium rates need the premium_models entitlement.
	Premium bool `json:"premium,omitempty"`
}

// Component prices one quantity per block of Per units: Price 2.5 with Per 1000 is
// 2.5 credits per 1,000 tokens. Part blocks are priced pro rata.
type Component struct {
	Quantity string        `json:"quantity"`
	Per      int64         `json:"per"`
	Price    value.Credits `json:"price,omitempty"`
	// Tiers make the component graduated; Price must then be zero.
	Tiers []Tier `json:"tiers,omitempty"`
	// CostMicroUSD is the vendor's cost per block, in millionths of a dollar.
	CostMicroUSD int64 `json:"cost_micro_usd,omitempty"`
}

// Tier prices the units above the previous tier's UpTo and up to its own.
// UpTo is a running total in units; the last tier has UpTo 0 (no bound).
type Tier struct {
	UpTo  value.Quantity `json:"up_to,omitempty"`
	Price value.Credits  `json:"price"`
}

// Schedule multiplies prices by UTC weekday and hour. Windows never overlap.
type Schedule struct {
	Enabled bool     `json:"enabled"`
	Windows []Window `json:"windows,omitempty"`
}

// Window applies from FromHour:00 up to (not including) ToHour:00 UTC on Days
// ("mon".."sun"; empty means every day). A window never crosses midnight:
// 22:00–02:00 is two windows. The day is the UTC weekday of the event's time.
type Window struct {
	Name       string           `json:"name"`
	Days       []string         `json:"days,omitempty"`
	FromHour   int              `json:"from_hour"`
	ToHour     int              `json:"to_hour"`
	Multiplier value.Multiplier `json:"multiplier"`
}

// BookStatus is draft or published.
type BookStatus string

const (
	BookDraft     BookStatus = "draft"
	BookPublished BookStatus = "published"
)

// BookData is the stored form of one price book version (one JSON document).
type BookData struct {
	Version     int        `json:"version"`
	Status      BookStatus `json:"status"`
	CreatedAt   time.Time  `json:"created_at"`
	EffectiveAt time.Time  `json:"effective_at"` // zero while a draft
	Note        string     `json:"note,omitempty"`
	Actions     []Action   `json:"actions"`
	Rates       []Rate     `json:"rates"`
	Schedule    Schedule   `json:"schedule"`
	// BatchMultiplier applies to batch events; zero means ×1.
	BatchMultiplier value.Multiplier `json:"batch_multiplier,omitempty"`
}

// Book is one version of the prices with its lookup index built.
// A published book never changes: its data is private and Data returns a copy.
// A draft is edited with the Set/Remove methods, which are not safe for concurrent use.
type Book struct {
	data BookData
	idx  *index
}

// NewBook wraps data (deep-copied) and builds its index. It does not validate:
// stored published versions load as they are; Publish is the gate.
func NewBook(d BookData) (*Book, error) {
	if d.Status != BookDraft && d.Status != BookPublished {
		return nil, value.FieldError("status", "must be draft or published")
	}
	if d.Version < 1 {
		return nil, value.FieldError("version", "must be 1 or more")
	}
	b := &Book{data: d.clone()}
	b.idx = buildIndex(&b.data)
	return b, nil
}

// NewDraftFrom starts the next version as a copy of live (or an empty book when live is nil).
func NewDraftFrom(live *Book, now time.Time) *Book {
	d := BookData{Version: 1}
	if live != nil {
		d = live.data.clone()
		d.Version = live.data.Version + 1
	}
	d.Status, d.CreatedAt, d.EffectiveAt, d.Note = BookDraft, now.UTC(), time.Time{}, ""
	b := &Book{data: d}
	b.idx = buildIndex(&b.data)
	return b
}

func (b *Book) Version() int           { return b.data.Version }
func (b *Book) Status() BookStatus     { return b.data.Status }
func (b *Book) Published() bool        { return b.data.Status == BookPublished }
func (b *Book) EffectiveAt() time.Time { return b.data.EffectiveAt }
func (b *Book) CreatedAt() time.Time   { return b.data.CreatedAt }

// Data returns a deep copy of the book's data.
func (b *Book) Data() BookData { return b.data.clone() }

// Actions returns a copy of the catalog's actions, cheaper than Data for name lookups.
func (b *Book) Actions() []Action {
	out := make([]Action, len(b.data.Actions))
	for i, a := range b.data.Actions {
		out[i] = a.clone()
	}
	return out
}

// WindowAt names the schedule window in force at t (UTC), "" when none is or the schedule is off.
func (b *Book) WindowAt(t time.Time) string {
	if b.idx == nil {
		return ""
	}
	if w := b.idx.window(t); w != nil {
		return w.line.Label
	}
	return ""
}

// MarshalJSON stores the book as its BookData document.
func (b *Book) MarshalJSON() ([]byte, error) { return json.Marshal(b.data) }

// UnmarshalJSON loads a stored document (see NewBook).
func (b *Book) UnmarshalJSON(p []byte) error {
	var d BookData
	if err := json.Unmarshal(p, &d); err != nil {
		return err
	}
	nb, err := NewBook(d)
	if err != nil {
		return err
	}
	*b = *nb
	return nil
}

// Publish validates the draft and returns its published copy, effective at
// effectiveAt (now when zero). The draft itself is unchanged.
// Errors: conflict when b is already published; invalid_request when it does not validate
// or effectiveAt is in the past.
func (b *Book) Publish(effectiveAt, now time.Time) (*Book, error) {
	if err := b.CheckDraft(); err != nil {
		return nil, err
	}
	if effectiveAt.IsZero() {
		effectiveAt = now
	}
	if effectiveAt.Before(now) {
		return nil, value.FieldError("effective_at", "must not be in the past")
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	d := b.data.clone()
	d.Status, d.EffectiveAt = BookPublished, effectiveAt.UTC()
	return &Book{data: d, idx: buildIndex(&d)}, nil
}

// CheckDraft is nil for a draft. Errors: conflict on a published book, which never changes.
func (b *Book) CheckDraft() error {
	if b.data.Status != BookDraft {
		return value.Errorf(value.EConflict, "Price book version %d is published and cannot change; start a new draft.", b.data.Version)
	}
	return nil
}

// edit applies f to a draft and rebuilds the index.
func (b *Book) edit(f func(d *BookData) error) error {
	if err := b.CheckDraft(); err != nil {
		return err
	}
	if err := f(&b.data); err != nil {
		return err
	}
	b.idx = buildIndex(&b.data)
	return nil
}

// SetRate adds r, or replaces the rate with the same ID. Errors: conflict on a published book.
func (b *Book) SetRate(r Rate) error {
	return b.edit(func(d *BookData) error {
		if r.ID == "" {
			return value.FieldError("id", "is required")
		}
		r = r.clone()
		if i := slices.IndexFunc(d.Rates, func(x Rate) bool { return x.ID == r.ID }); i >= 0 {
			d.Rates[i] = r
		} else {
			d.Rates = append(d.Rates, r)
		}
		return nil
	})
}

// RemoveRate deletes a rate. Errors: conflict on a published book, not_found.
func (b *Book) RemoveRate(id string) error {
	return b.edit(func(d *BookData) error {
		i := slices.IndexFunc(d.Rates, func(x Rate) bool { return x.ID == id })
		if i < 0 {
			return value.Errorf(value.ENotFound, "No rate %q in this draft.", id)
		}
		d.Rates = slices.Delete(d.Rates, i, i+1)
		return nil
	})
}

// SetAction adds a or replaces the action with the same key. Errors: conflict on a published book.
func (b *Book) SetAction(a Action) error {
	return b.edit(func(d *BookData) error {
		if a.Key == "" {
			return value.FieldError("key", "is required")
		}
		a = a.clone()
		if i := slices.IndexFunc(d.Actions, func(x Action) bool { return x.Key == a.Key }); i >= 0 {
			d.Actions[i] = a
		} else {
			d.Actions = append(d.Actions, a)
		}
		return nil
	})
}

// RemoveAction deletes an action; its rates must go too (Validate says so). Errors: conflict, not_found.
func (b *Book) RemoveAction(key string) error {
	return b.edit(func(d *BookData) error {
		i := slices.IndexFunc(d.Actions, func(x Action) bool { return x.Key == key })
		if i < 0 {
			return value.Errorf(value.ENotFound, "No action %q in this draft.", key)
		}
		d.Actions = slices.Delete(d.Actions, i, i+1)
		return nil
	})
}

// SetSchedule replaces the time-of-day schedule. Errors: conflict on a published book.
func (b *Book) SetSchedule(s Schedule) error {
	return b.edit(func(d *BookData) error { d.Schedule = s.clone(); return nil })
}

// SetScheduleEnabled switches the schedule on or off. Errors: conflict on a published book.
func (b *Book) SetScheduleEnabled(on bool) error {
	return b.edit(func(d *BookData) error { d.Schedule.Enabled = on; return nil })
}

// SetBatchMultiplier sets the batch discount (zero means ×1). Errors: conflict on a published book.
func (b *Book) SetBatchMultiplier(m value.Multiplier) error {
	return b.edit(func(d *BookData) error { d.BatchMultiplier = m; return nil })
}

// SetNote records why this version exists. Errors: conflict on a published book.
func (b *Book) SetNote(note string) error {
	return b.edit(func(d *BookData) error { d.Note = note; return nil })
}

func (d BookData) clone() BookData {
	c := d
	c.Actions = make([]Action, len(d.Actions))
	for i, a := range d.Actions {
		c.Actions[i] = a.clone()
	}
	c.Rates = make([]Rate, len(d.Rates))
	for i, r := range d.Rates {
		c.Rates[i] = r.clone()
	}
	c.Schedule = d.Schedule.clone()
	return c
}

func (a Action) clone() Action {
	a.Quantities = slices.Clone(a.Quantities)
	a.Attributes = slices.Clone(a.Attributes)
	return a
}

func (r Rate) clone() Rate {
	r.Match = maps.Clone(r.Match)
	r.Components = slices.Clone(r.Components)
	for i := range r.Components {
		r.Components[i].Tiers = slices.Clone(r.Components[i].Tiers)
	}
	return r
}

func (s Schedule) clone() Schedule {
	s.Windows = slices.Clone(s.Windows)
	for i := range s.Windows {
		s.Windows[i].Days = slices.Clone(s.Windows[i].Days)
	}
	return s
}
