package pricing

import (
	"cmp"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"creditline/billing/value"
)

// LiveBook holds the published versions for the hot path. Readers never lock:
// the sorted list is swapped whole on every change.
type LiveBook struct {
	mu    sync.Mutex // serialises writers
	books atomic.Pointer[[]*Book]
}

// Load replaces every version, e.g. with every published book in the store at start.
// Errors: invalid_request when a book is not published or a version repeats.
func (l *LiveBook) Load(books []*Book) error {
	sorted := slices.Clone(books)
	slices.SortFunc(sorted, byEffective)
	for i, b := range sorted {
		if b == nil || !b.Published() {
			return value.Errorf(value.EInvalid, "only published price books can go live")
		}
		for _, o := range sorted[:i] {
			if o.Version() == b.Version() {
				return value.Errorf(value.EInvalid, "price book version %d is listed twice", b.Version())
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
func (l *LiveBook) Add(b *Book) error {
	if b == nil || !b.Published() {
		return value.Errorf(value.EInvalid, "only published price books can go live")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.list()
	if slices.ContainsFunc(old, func(o *Book) bool { return o.Version() == b.Version() }) {
		return value.Errorf(value.EConflict, "Price book version %d is already live.", b.Version())
	}
	next := append(slices.Clone(old), b)
	slices.SortFunc(next, byEffective)
	l.books.Store(&next)
	return nil
}

func byEffective(a, b *Book) int {
	if a == nil || b == nil {
		return 0
	}
	return cmp.Or(a.EffectiveAt().Compare(b.EffectiveAt()), cmp.Compare(a.Version(), b.Version()))
}

func (l *LiveBook) list() []*Book {
	if p := l.books.Load(); p != nil {
		return *p
	}
	return nil
}

// Current returns the version in effect at t: the latest with effective_at <= t
// (the higher version when two share a time). Errors: not_found before the first.
func (l *LiveBook) Current(t time.Time) (*Book, error) {
	books := l.list()
	i := sort.Search(len(books), func(i int) bool { return books[i].EffectiveAt().After(t) })
	if i == 0 {
		return nil, value.Errorf(value.ENotFound, "No price book is in effect at %s.", t.UTC().Format(time.RFC3339))
	}
	return books[i-1], nil
}

// Version returns a live version by number, e.g. to price a reservation's commit
// at the version that priced its hold. Errors: not_found.
func (l *LiveBook) Version(v int) (*Book, error) {
	for _, b := range l.list() {
		if b.Version() == v {
			return b, nil
		}
	}
	return nil, value.Errorf(value.ENotFound, "No published price book version %d.", v)
}

// Versions returns the live versions, oldest effective first.
func (l *LiveBook) Versions() []*Book { return slices.Clone(l.list()) }

// Price prices req with the version in effect at req.At. Errors: as Book.Price,
// and not_found when no version is in effect yet.
func (l *LiveBook) Price(req Request) (Quote, error) {
	b, err := l.Current(req.At)
	if err != nil {
		return Quote{}, err
	}
	return b.Price(req)
}
