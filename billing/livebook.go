package billing

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
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

// LiveBook holds the published versions for the hot path. Readers never lock:
// the sorted list is swapped whole on every change.
type LiveBook struct {
	mu    sync.Mutex // serialises writers
	books atomic.Pointer[[]*PriceBook]
}

// Load replaces every version, e.g. from PriceBookStore.PublishedPriceBooks at start.
// Errors: invalid_request when a book is not published or a version repeats.
func (l *LiveBook) Load(books []*PriceBook) error {
	sorted := slices.Clone(books)
	slices.SortFunc(sorted, byEffective)
	for i, b := range sorted {
		if b == nil || !b.Published() {
			return Errorf(EInvalid, "only published price books can go live")
		}
		for _, o := range sorted[:i] {
			if o.Version() == b.Version() {
				return Errorf(EInvalid, "price book version %d is listed twice", b.Version())
			}
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.books.Store(&sorted)
	return nil
}

// Add makes a newly published book live from its effective time.
// Errors: invalid_request when b is not published; conflict when its version is live already.
func (l *LiveBook) Add(b *PriceBook) error {
	if b == nil || !b.Published() {
		return Errorf(EInvalid, "only published price books can go live")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.list()
	if slices.ContainsFunc(old, func(o *PriceBook) bool { return o.Version() == b.Version() }) {
		return Errorf(EConflict, "Price book version %d is already live.", b.Version())
	}
	next := append(slices.Clone(old), b)
	slices.SortFunc(next, byEffective)
	l.books.Store(&next)
	return nil
}

func byEffective(a, b *PriceBook) int {
	if a == nil || b == nil {
		return 0
	}
	return cmp.Or(a.EffectiveAt().Compare(b.EffectiveAt()), cmp.Compare(a.Version(), b.Version()))
}

func (l *LiveBook) list() []*PriceBook {
	if p := l.books.Load(); p != nil {
		return *p
	}
	return nil
}

// Current returns the version in effect at t: the latest with effective_at <= t
// (the higher version when two share a time). Errors: not_found before the first.
func (l *LiveBook) Current(t time.Time) (*PriceBook, error) {
	books := l.list()
	i := sort.Search(len(books), func(i int) bool { return books[i].EffectiveAt().After(t) })
	if i == 0 {
		return nil, Errorf(ENotFound, "No price book is in effect at %s.", t.UTC().Format(time.RFC3339))
	}
	return books[i-1], nil
}

// Version returns a live version by number, e.g. to price a reservation's commit
// at the version that priced its hold. Errors: not_found.
func (l *LiveBook) Version(v int) (*PriceBook, error) {
	for _, b := range l.list() {
		if b.Version() == v {
			return b, nil
		}
	}
	return nil, Errorf(ENotFound, "No published price book version %d.", v)
}

// Versions returns the live versions, oldest effective first.
func (l *LiveBook) Versions() []*PriceBook { return slices.Clone(l.list()) }

// Price prices req with the version in effect at req.At. Errors: as PriceBook.Price,
// and not_found when no version is in effect yet.
func (l *LiveBook) Price(req PriceRequest) (Quote, error) {
	b, err := l.Current(req.At)
	if err != nil {
		return Quote{}, err
	}
	return b.Price(req)
}
