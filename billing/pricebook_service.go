package billing

import (
	"context"
	"time"
)

// PriceBookStore reads price book versions, one JSON document (BookData) each.
// There is at most one draft at a time; published versions are never updated.
type PriceBookStore interface {
	// PublishedPriceBooks returns every published version, in any order.
	PublishedPriceBooks(ctx context.Context) ([]*PriceBook, error)
	// PriceBookVersion returns one version, draft or published. Errors: not_found.
	PriceBookVersion(ctx context.Context, version int) (*PriceBook, error)
	// DraftPriceBook returns the open draft. Errors: not_found when there is none.
	DraftPriceBook(ctx context.Context) (*PriceBook, error)
	// LatestPublishedVersion returns the highest published version, 0 when none.
	LatestPublishedVersion(ctx context.Context) (int, error)
}

// PriceBookTx changes price book versions inside a transaction. by names the actor.
type PriceBookTx interface {
	// LockDraftPriceBook returns the open draft, locked until the transaction ends.
	// Errors: not_found when there is none.
	LockDraftPriceBook(ctx context.Context) (*PriceBook, error)
	// SaveDraftPriceBook creates or replaces the draft; by is recorded when it is created.
	// Errors: conflict when b is published, or its version is taken by a published
	// book or by another draft.
	SaveDraftPriceBook(ctx context.Context, b *PriceBook, by string) error
	// PublishPriceBook stores a published book in place of the draft of the same
	// version (or as a new row), published by by at at.
	// Errors: conflict when b is a draft or that version is already published.
	PublishPriceBook(ctx context.Context, b *PriceBook, by string, at time.Time) error
	// DeleteDraftPriceBook discards the draft. Errors: not_found when there is none.
	DeleteDraftPriceBook(ctx context.Context) error
}

// Live returns the published price books the hot path prices with.
func (s *Service) Live() *LiveBook { return &s.live }

// LoadLiveBook replaces the live book with every published version in the store.
func (s *Service) LoadLiveBook(ctx context.Context) error {
	books, err := s.store.PublishedPriceBooks(ctx)
	if err != nil {
		return err
	}
	return s.live.Load(books)
}

// RefreshLiveBook reloads the live book when the store holds a newer published version
// (another instance published it) and reports whether it reloaded. One max() query
// when nothing changed, so a ticker may call it often.
func (s *Service) RefreshLiveBook(ctx context.Context) (bool, error) {
	latest, err := s.store.LatestPublishedVersion(ctx)
	if err != nil {
		return false, err
	}
	if latest <= highestVersion(s.live.Versions()) {
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

// latestPublished reads the highest published version from the store, nil when none.
func (s *Service) latestPublished(ctx context.Context) (*PriceBook, error) {
	v, err := s.store.LatestPublishedVersion(ctx)
	if err != nil || v == 0 {
		return nil, err
	}
	return s.store.PriceBookVersion(ctx, v)
}

// Draft returns the open draft. Errors: not_found.
func (s *Service) Draft(ctx context.Context) (*PriceBook, error) {
	d, err := s.store.DraftPriceBook(ctx)
	return d, noDraft(err)
}

func noDraft(err error) error {
	if ErrorCode(err) == ENotFound {
		return Errorf(ENotFound, "There is no draft price book; start one from the live version.")
	}
	return err
}

// CreateDraftFromLive opens a draft copying the newest published version (scheduled
// ones included), or an empty version 1 when none is published.
// Errors: conflict when a draft is already open.
func (s *Service) CreateDraftFromLive(ctx context.Context, actor string) (*PriceBook, error) {
	base, err := s.latestPublished(ctx)
	if err != nil {
		return nil, err
	}
	draft := NewDraftFrom(base, s.Now())
	err = s.store.InTx(ctx, func(tx Tx) error {
		open, err := tx.LockDraftPriceBook(ctx)
		if err == nil {
			return Errorf(EConflict, "Version %d is already being drafted; edit or discard it first.", open.Version())
		}
		if ErrorCode(err) != ENotFound {
			return err
		}
		return saveDraft(ctx, tx, draft, actor)
	})
	if err != nil {
		return nil, err
	}
	return draft, nil
}

// saveDraft words the store's conflicts (another draft, version published) for people.
func saveDraft(ctx context.Context, tx Tx, draft *PriceBook, actor string) error {
	err := tx.SaveDraftPriceBook(ctx, draft, actor)
	if ErrorCode(err) == EConflict {
		return Errorf(EConflict, "Another draft is open, or version %d was published meanwhile; reload the draft.", draft.Version())
	}
	return err
}

// SaveDraft stores an edited draft. A draft need not validate until it is published.
// Errors: conflict when draft is published, another draft is open, or its version was
// published meanwhile.
func (s *Service) SaveDraft(ctx context.Context, draft *PriceBook, actor string) error {
	if draft == nil {
		return Errorf(EInvalid, "There is no draft to save.")
	}
	if err := draft.CheckDraft(); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error { return saveDraft(ctx, tx, draft, actor) })
}

// DraftDiff lists what the open draft changes from the version it was copied from.
// Errors: not_found when there is no draft.
func (s *Service) DraftDiff(ctx context.Context) ([]Change, error) {
	draft, err := s.Draft(ctx)
	if err != nil {
		return nil, err
	}
	base, err := s.store.PriceBookVersion(ctx, draft.Version()-1)
	if ErrorCode(err) == ENotFound {
		base, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	return Diff(base, draft), nil
}

// DiscardDraft deletes the open draft. Errors: not_found.
func (s *Service) DiscardDraft(ctx context.Context) error {
	return noDraft(s.store.InTx(ctx, func(tx Tx) error { return tx.DeleteDraftPriceBook(ctx) }))
}

// PublishDraft validates the open draft and publishes it effective at effectiveAt (now
// when zero), then makes it live on this instance; others pick it up in RefreshLiveBook.
// Errors: not_found (no draft); invalid_request (the draft does not validate, or
// effectiveAt is in the past) with nothing changed; conflict (published meanwhile).
func (s *Service) PublishDraft(ctx context.Context, effectiveAt time.Time, actor string) (*PriceBook, error) {
	now := s.Now()
	var pub *PriceBook
	err := s.store.InTx(ctx, func(tx Tx) error {
		draft, err := tx.LockDraftPriceBook(ctx)
		if err != nil {
			return noDraft(err)
		}
		if pub, err = draft.Publish(effectiveAt, now); err != nil {
			return err
		}
		return tx.PublishPriceBook(ctx, pub, actor, now)
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
