package billing

import (
	"context"
	"time"
)

// UsageSummary is the count and credits of the events a filter selects.
type UsageSummary struct {
	Events  int64
	Credits Credits
}

// UsageTotals sums the events f selects from the rollups. ok is false when f's bounds are
// not whole UTC days (the rollups cannot answer exactly), and nothing is read.
func (s *Service) UsageTotals(ctx context.Context, f UsageFilter) (sum UsageSummary, ok bool, err error) {
	scopeUsage(&f)
	if f.MemberID != "" { // the rollups do not count members
		return UsageSummary{}, false, nil
	}
	for _, t := range []*time.Time{f.From, f.To} {
		if t != nil && !t.Equal(utcDay(*t)) {
			return UsageSummary{}, false, nil
		}
	}
	n, c, err := s.store.UsageTotals(ctx, f)
	return UsageSummary{Events: n, Credits: c}, err == nil, err
}

// UsageModels lists the models an account has used.
func (s *Service) UsageModels(ctx context.Context, accountID string) ([]string, error) {
	return s.store.UsageModels(ctx, accountID)
}

// UsageEvent returns one of an account's events. Errors: not_found (also for another account's).
func (s *Service) UsageEvent(ctx context.Context, accountID, id string) (UsageEvent, error) {
	ev, err := s.store.UsageEventOf(ctx, accountID, id)
	if ErrorCode(err) == ENotFound {
		return UsageEvent{}, Errorf(ENotFound, "No such usage event in this account.")
	}
	return ev, err
}

// UsageEventAs is UsageEvent read by the membership m: a member reading another member's
// event (or unattributed usage) gets not_found.
func (s *Service) UsageEventAs(ctx context.Context, m Membership, accountID, id string) (UsageEvent, error) {
	ev, err := s.UsageEvent(ctx, accountID, id)
	if err == nil && !Can(m.Role, ActViewAllUsage) && (m.ID == "" || ev.MemberID != m.ID) {
		return UsageEvent{}, Errorf(ENotFound, "No such usage event in this account.")
	}
	return ev, err
}

// UsageListing is one page of the usage history with what the page shows around it.
type UsageListing struct {
	Events []UsageEvent
	// More says older events match the filter: the next page starts after the last event.
	More bool
	// Summary counts every event the filter selects (SummaryOK false: bounds not whole days).
	Summary   UsageSummary
	SummaryOK bool
	// Models the account has used and the actions' display names, for the filters.
	Models []string
	Names  map[string]string
}

// UsageListing reads one keyset page of f (newest first); with facets, also the filter's
// totals from the rollups and the choices for the filter form.
func (s *Service) UsageListing(ctx context.Context, f UsageFilter, facets bool) (UsageListing, error) {
	scopeUsage(&f)
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 50
	}
	limit := f.Limit
	f.Limit++
	evs, err := s.store.UsagePage(ctx, f)
	if err != nil {
		return UsageListing{}, err
	}
	l := UsageListing{Events: evs, Names: s.ActionNames(s.Now())}
	if len(evs) > limit {
		l.Events, l.More = evs[:limit], true
	}
	if !facets {
		return l, nil
	}
	if l.Summary, l.SummaryOK, err = s.UsageTotals(ctx, f); err != nil {
		return UsageListing{}, err
	}
	if l.Models, err = s.store.UsageModels(ctx, f.AccountID); err != nil {
		return UsageListing{}, err
	}
	return l, nil
}

// EachUsage calls fn with successive pages of the events f selects, newest first, until none
// are left or fn fails: an export holds one page in memory at a time.
func (s *Service) EachUsage(ctx context.Context, f UsageFilter, pageSize int, fn func([]UsageEvent) error) error {
	scopeUsage(&f)
	f.Limit = pageSize
	for {
		evs, err := s.store.UsagePage(ctx, f)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		if err := fn(evs); err != nil {
			return err
		}
		if len(evs) < pageSize {
			return nil
		}
		last := evs[len(evs)-1]
		t := last.OccurredAt
		f.AfterTime, f.AfterID = &t, last.ID
	}
}
