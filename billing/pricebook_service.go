package billing

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"creditline/billing/pricing"
)

// Audit actions of the price book.
const (
	AuditPriceBookPublish = "price_book.publish"
	AuditPriceBookCancel  = "price_book.cancel"
)

// SettingTargetMargin is the operator setting holding pricing.MarginTarget.
const SettingTargetMargin = "pricing.target_margin"

// PriceDraft is one price book being edited. Several may exist; each takes its version
// number only when published (Book.Version() is a placeholder until then).
type PriceDraft struct {
	ID          int64
	BaseVersion int // the published version it was copied from (0: none)
	Name        string
	CreatedAt   time.Time
	CreatedBy   string
	UpdatedAt   time.Time
	Book        *PriceBook
}

// PriceBookVersionInfo is one published version as the history lists it.
type PriceBookVersionInfo struct {
	Version      int        `db:"version" json:"version"`
	EffectiveAt  time.Time  `db:"effective_at" json:"effective_at"`
	PublishedAt  time.Time  `db:"published_at" json:"published_at"`
	PublishedBy  string     `db:"published_by" json:"published_by"`
	Note         string     `db:"note" json:"note,omitempty"`
	CancelledAt  *time.Time `db:"cancelled_at" json:"cancelled_at,omitempty"`
	CancelledBy  string     `db:"cancelled_by" json:"cancelled_by,omitempty"`
	CancelReason string     `db:"cancel_reason" json:"cancel_reason,omitempty"`
}

// PriceBookStore reads price book versions (one JSON document, BookData, each) and drafts.
type PriceBookStore interface {
	// PublishedPriceBooks returns every published version not cancelled, in any order.
	PublishedPriceBooks(ctx context.Context) ([]*PriceBook, error)
	// PriceBookVersion returns one published version, cancelled or not. Errors: not_found.
	PriceBookVersion(ctx context.Context, version int) (*PriceBook, error)
	// LivePriceBookStamp is the highest version and the number of versions not cancelled:
	// a change of either means the live book is stale.
	LivePriceBookStamp(ctx context.Context) (maxVersion, count int, err error)
	// PriceBookHistory lists every published version, newest first.
	PriceBookHistory(ctx context.Context) ([]PriceBookVersionInfo, error)
	// PriceDrafts lists the drafts, newest first. PriceDraft returns one. Errors: not_found.
	PriceDrafts(ctx context.Context) ([]PriceDraft, error)
	PriceDraft(ctx context.Context, id int64) (PriceDraft, error)
}

// PriceBookTx changes drafts and publishes inside a transaction.
type PriceBookTx interface {
	// LockPriceDraft returns a draft locked until the transaction ends. Errors: not_found.
	LockPriceDraft(ctx context.Context, id int64) (PriceDraft, error)
	// InsertPriceDraft stores a new draft and returns its id.
	InsertPriceDraft(ctx context.Context, d PriceDraft) (int64, error)
	// UpdatePriceDraft replaces a draft's name and book. Errors: not_found.
	UpdatePriceDraft(ctx context.Context, d PriceDraft) error
	// DeletePriceDraft removes a draft. Errors: not_found.
	DeletePriceDraft(ctx context.Context, id int64) error
	// NextPriceBookVersion serialises publishers until the transaction ends and returns
	// the number the next published version takes.
	NextPriceBookVersion(ctx context.Context) (int, error)
	// PublishPriceBook stores a published book, published by by at at.
	// Errors: conflict when b is a draft or that version exists.
	PublishPriceBook(ctx context.Context, b *PriceBook, by string, at time.Time) error
	// CancelPriceBook records that a scheduled version will never take effect.
	// Errors: not_found; conflict when it is in effect (or within ten minutes of it), has
	// priced usage, or is cancelled already.
	CancelPriceBook(ctx context.Context, version int, by, reason string, at time.Time) error
}

// Live returns the published price books the hot path prices with.
func (s *Service) Live() *LiveBook { return &s.live }

// LoadLiveBook replaces the live book with every published version not cancelled.
func (s *Service) LoadLiveBook(ctx context.Context) error {
	books, err := s.store.PublishedPriceBooks(ctx)
	if err != nil {
		return err
	}
	return s.live.Load(books)
}

// RefreshLiveBook reloads the live book when the store's versions differ from it (another
// instance published or cancelled one) and reports whether it reloaded. One small query
// when nothing changed, so a ticker may call it often.
func (s *Service) RefreshLiveBook(ctx context.Context) (bool, error) {
	latest, count, err := s.store.LivePriceBookStamp(ctx)
	if err != nil {
		return false, err
	}
	live := s.live.Versions()
	if latest == highestVersion(live) && count == len(live) {
		return false, nil
	}
	return true, s.LoadLiveBook(ctx)
}

func highestVersion(books []*PriceBook) int {
	v := 0
	for _, b := range books {
		v = max(v, b.Version())
	}
	return v
}

// newestLive is the newest version not cancelled (scheduled ones included), nil when none:
// what a new draft copies and what a draft is compared with.
func (s *Service) newestLive() *PriceBook {
	var newest *PriceBook
	for _, b := range s.live.Versions() {
		if newest == nil || b.Version() > newest.Version() {
			newest = b
		}
	}
	return newest
}

// PriceDrafts lists the open drafts, newest first.
func (s *Service) PriceDrafts(ctx context.Context) ([]PriceDraft, error) {
	return s.store.PriceDrafts(ctx)
}

// PriceDraft returns one draft. Errors: not_found.
func (s *Service) PriceDraft(ctx context.Context, id int64) (PriceDraft, error) {
	d, err := s.store.PriceDraft(ctx, id)
	return d, noDraft(err, id)
}

// PriceBookHistory lists the published versions, newest first.
func (s *Service) PriceBookHistory(ctx context.Context) ([]PriceBookVersionInfo, error) {
	return s.store.PriceBookHistory(ctx)
}

func noDraft(err error, id int64) error {
	if ErrorCode(err) == ENotFound {
		return Errorf(ENotFound, "There is no draft price book #%d; it may have been published or discarded.", id)
	}
	return err
}

// CreatePriceDraft opens a draft copying the newest published version (scheduled ones
// included), or an empty book when none is published.
func (s *Service) CreatePriceDraft(ctx context.Context, actor string) (PriceDraft, error) {
	base := s.newestLive()
	d := PriceDraft{Book: NewDraftFrom(base, s.Now()), CreatedAt: s.Now(), UpdatedAt: s.Now(), CreatedBy: actor}
	if base != nil {
		d.BaseVersion = base.Version()
	}
	return d, s.insertDraft(ctx, &d)
}

// CreatePriceDraftFrom stores a whole book (the API's prices-as-code) as a new draft, after
// validating it as publishing would. Errors: invalid_request naming each field.
func (s *Service) CreatePriceDraftFrom(ctx context.Context, data BookData, name, actor string) (PriceDraft, error) {
	if err := checkDraftName(name); err != nil {
		return PriceDraft{}, err
	}
	base := s.newestLive()
	data.Status, data.Version, data.CreatedAt, data.EffectiveAt = BookDraft, 1, s.Now(), time.Time{}
	d := PriceDraft{Name: name, CreatedAt: s.Now(), UpdatedAt: s.Now(), CreatedBy: actor}
	if base != nil {
		data.Version, d.BaseVersion = base.Version()+1, base.Version()
	}
	book, err := NewPriceBook(data)
	if err != nil {
		return PriceDraft{}, err
	}
	if err := book.Validate(); err != nil {
		return PriceDraft{}, err
	}
	d.Book = book
	return d, s.insertDraft(ctx, &d)
}

func (s *Service) insertDraft(ctx context.Context, d *PriceDraft) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		id, err := tx.InsertPriceDraft(ctx, *d)
		d.ID = id
		return err
	})
}

func checkDraftName(name string) error {
	if utf8.RuneCountInString(name) > 200 || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return FieldError("name", "Use at most 200 characters, no control characters.")
	}
	return nil
}

// editDraft locks draft id, applies edit and saves it; nothing is saved when edit fails.
func (s *Service) editDraft(ctx context.Context, id int64, edit func(d *PriceDraft) error) (PriceDraft, error) {
	var out PriceDraft
	err := s.store.InTx(ctx, func(tx Tx) error {
		d, err := tx.LockPriceDraft(ctx, id)
		if err != nil {
			return noDraft(err, id)
		}
		if err := edit(&d); err != nil {
			return err
		}
		d.UpdatedAt = s.Now()
		out = d
		return tx.UpdatePriceDraft(ctx, d)
	})
	return out, err
}

// SetDraftRate adds or replaces a rate of draft id. The rest of a draft may be work in
// progress, but the rate itself must validate. Errors: not_found; invalid_request naming
// the rate's fields (rates.<id>.components.<quantity>.price, ...).
func (s *Service) SetDraftRate(ctx context.Context, id int64, r Rate) (PriceDraft, error) {
	return s.editDraft(ctx, id, func(d *PriceDraft) error {
		if err := d.Book.SetRate(r); err != nil {
			return err
		}
		return d.Book.ValidateRate(r.ID)
	})
}

// RemoveDraftRate deletes a rate of draft id. Errors: not_found.
func (s *Service) RemoveDraftRate(ctx context.Context, id int64, rateID string) (PriceDraft, error) {
	return s.editDraft(ctx, id, func(d *PriceDraft) error { return d.Book.RemoveRate(rateID) })
}

// SetDraftAction adds (isNew) or replaces an action of the catalog of draft id: its name and
// the quantities and attributes it takes. The action, and the rates of it, must validate.
// Errors: not_found; invalid_request naming actions.<key>.* (actions.<key>.key when a new
// action's key is taken, actions.<key> when a rate of it no longer fits).
func (s *Service) SetDraftAction(ctx context.Context, id int64, a Action, isNew bool) (PriceDraft, error) {
	return s.editDraft(ctx, id, func(d *PriceDraft) error {
		if a.Key == "" {
			return FieldError("actions.#new.key", "is required")
		}
		if isNew && slices.ContainsFunc(d.Book.Actions(), func(x Action) bool { return x.Key == a.Key }) {
			return FieldError("actions."+a.Key+".key", "is already an action of this draft")
		}
		if err := d.Book.SetAction(a); err != nil {
			return err
		}
		return d.Book.ValidateAction(a.Key)
	})
}

// RemoveDraftAction deletes an action no rate of draft id uses. Errors: not_found;
// invalid_request naming actions.<key> while rates use it.
func (s *Service) RemoveDraftAction(ctx context.Context, id int64, key string) (PriceDraft, error) {
	return s.editDraft(ctx, id, func(d *PriceDraft) error {
		var used []string
		for _, r := range d.Book.Data().Rates {
			if r.Action == key {
				used = append(used, r.ID)
			}
		}
		if len(used) > 0 {
			return FieldError("actions."+key, "Remove its rates first: %s.", strings.Join(used, ", "))
		}
		return d.Book.RemoveAction(key)
	})
}

// SetDraftSettings replaces draft id's name, schedule and batch multiplier.
// Errors: not_found; invalid_request naming schedule.windows.#i.* or batch_multiplier.
func (s *Service) SetDraftSettings(ctx context.Context, id int64, name string, sched Schedule, batch Multiplier) (PriceDraft, error) {
	return s.editDraft(ctx, id, func(d *PriceDraft) error {
		if err := checkDraftName(name); err != nil {
			return err
		}
		d.Name = name
		if err := d.Book.SetSchedule(sched); err != nil {
			return err
		}
		if err := d.Book.SetBatchMultiplier(batch); err != nil {
			return err
		}
		return d.Book.ValidateSettings()
	})
}

// DiscardPriceDraft deletes draft id. Errors: not_found.
func (s *Service) DiscardPriceDraft(ctx context.Context, id int64) error {
	return noDraft(s.store.InTx(ctx, func(tx Tx) error { return tx.DeletePriceDraft(ctx, id) }), id)
}

// DraftReview is a draft beside the newest live version: the readable changes, each
// rate's typical request before and after, the margin warnings and whether it validates.
type DraftReview struct {
	Draft    PriceDraft
	Live     *PriceBook // nil when nothing is published
	Changes  []Change
	Impacts  []pricing.RateImpact
	Warnings []pricing.MarginWarning
	Target   pricing.MarginTarget
	Invalid  error // the draft's validation error, nil when it would publish
}

// ReviewPriceDraft diffs draft id against the newest live version. Errors: not_found.
func (s *Service) ReviewPriceDraft(ctx context.Context, id int64) (DraftReview, error) {
	d, err := s.PriceDraft(ctx, id)
	if err != nil {
		return DraftReview{}, err
	}
	target, err := s.TargetMargin(ctx)
	if err != nil {
		return DraftReview{}, err
	}
	live := s.newestLive()
	return DraftReview{Draft: d, Live: live, Changes: Diff(live, d.Book), Impacts: pricing.TypicalImpact(live, d.Book),
		Warnings: d.Book.MarginWarnings(target), Target: target, Invalid: d.Book.Validate()}, nil
}

// PublishOptions say when a draft takes effect (now when zero) and that the operator has
// seen the margin warnings (required when there are any).
type PublishOptions struct {
	EffectiveAt     time.Time
	ConfirmWarnings bool
}

// PublishPriceDraft validates draft id and publishes it as the next version, effective
// at opts.EffectiveAt, audited with op; then makes it live here (others hear by NOTIFY).
// Errors: not_found; invalid_request (reason; the draft does not validate; effective_at in
// the past; margin warnings not confirmed, field "confirm", Details["warnings"]).
func (s *Service) PublishPriceDraft(ctx context.Context, id int64, opts PublishOptions, op Op) (*PriceBook, error) {
	var v Validation
	op.validate(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	target, err := s.TargetMargin(ctx)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var pub *PriceBook
	err = s.store.InTx(ctx, func(tx Tx) error {
		d, err := tx.LockPriceDraft(ctx, id)
		if err != nil {
			return noDraft(err, id)
		}
		if err := d.Book.Validate(); err != nil {
			return err
		}
		warnings := d.Book.MarginWarnings(target)
		if len(warnings) > 0 && !opts.ConfirmWarnings {
			e := FieldError("confirm", "%d rate(s) are priced below the %d%% target margin; confirm to publish anyway.", len(warnings), target.Percent)
			e.Details = map[string]any{"warnings": warnings}
			return e
		}
		next, err := tx.NextPriceBookVersion(ctx)
		if err != nil {
			return err
		}
		numbered, err := d.Book.Renumbered(next)
		if err != nil {
			return err
		}
		if err := numbered.SetNote(firstNonEmpty(d.Name, op.Reason)); err != nil {
			return err
		}
		if pub, err = numbered.Publish(opts.EffectiveAt, now); err != nil {
			return err
		}
		if err := tx.PublishPriceBook(ctx, pub, op.Actor.String(), now); err != nil {
			return err
		}
		if err := tx.DeletePriceDraft(ctx, id); err != nil {
			return err
		}
		type published struct {
			Version     int                     `json:"version"`
			EffectiveAt time.Time               `json:"effective_at"`
			Draft       int64                   `json:"draft"`
			BaseVersion int                     `json:"base_version"`
			Changes     []Change                `json:"changes"`
			Warnings    []pricing.MarginWarning `json:"margin_warnings,omitempty"`
		}
		return s.audit(ctx, tx, op, AuditPriceBookPublish, "", "", nil, published{pub.Version(), pub.EffectiveAt(), id,
			d.BaseVersion, Diff(s.newestLive(), pub), warnings})
	})
	if err != nil {
		return nil, err
	}
	// A concurrent RefreshLiveBook may have loaded it already.
	if err := s.live.Add(pub); err != nil && ErrorCode(err) != EConflict {
		return nil, err
	}
	return pub, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// CancelPriceBookVersion withdraws a scheduled version before it takes effect; the version
// row itself never changes. Every instance drops it when notified.
// Errors: invalid_request (reason); not_found; conflict (in effect or within ten minutes of it,
// has priced usage, or already cancelled).
func (s *Service) CancelPriceBookVersion(ctx context.Context, version int, op Op) error {
	var v Validation
	op.validate(&v)
	if err := v.Err(); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CancelPriceBook(ctx, version, op.Actor.String(), op.Reason, s.Now()); err != nil {
			return err
		}
		return s.audit(ctx, tx, op, AuditPriceBookCancel, "", "", map[string]any{"version": version, "status": "scheduled"},
			map[string]any{"version": version, "status": "cancelled"})
	})
	if err != nil {
		return err
	}
	return s.LoadLiveBook(ctx)
}

// TargetMargin is the operator's margin target (pricing.DefaultMarginTarget until set).
func (s *Service) TargetMargin(ctx context.Context) (pricing.MarginTarget, error) {
	t := pricing.DefaultMarginTarget
	if _, err := s.OperatorSetting(ctx, SettingTargetMargin, &t); err != nil {
		return pricing.MarginTarget{}, err
	}
	return t, nil
}

// SetTargetMargin stores a new margin target, audited. Errors: invalid_request naming
// percent, credit_value_micro_usd or reason.
func (s *Service) SetTargetMargin(ctx context.Context, op Op, t pricing.MarginTarget) error {
	if err := t.Check(); err != nil {
		return err
	}
	return s.SetOperatorSetting(ctx, op, SettingTargetMargin, t)
}
