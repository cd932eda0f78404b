package billing

import "context"

// Kinds of CacheEvent.
const (
	EventAccount       = "account"     // an account's settings (status, plan, limits, ids)
	EventPlans         = "plans"       // any plan
	EventPriceBooks    = "price_books" // a price book was published
	EventAPIKeyRevoked = "api_key_revoked"
	// EventsLost: the listener lost its connection, so changes may have gone unannounced.
	EventsLost = "lost"
	// EventsLive: the listener is subscribed (again), after the EventsLost that dropped what
	// may have gone unannounced: from now on every change is announced.
	EventsLive = "live"
)

// CacheEvent is a committed change announced by the database (made by this instance or another
// sharing it): what this instance keeps in memory about it is stale.
type CacheEvent struct {
	Kind      string
	AccountID string
	Version   int64 // the account's version after the change (0: unknown)
	KeyID     string
}

// ApplyCacheEvent drops or reloads what the change made stale. Only a price book publication
// reads the database (the live book is reloaded when a newer version exists).
func (s *Service) ApplyCacheEvent(ctx context.Context, c CacheEvent) error {
	switch c.Kind {
	case EventAccount:
		s.ForgetAccount(c.AccountID, c.Version)
	case EventPlans:
		s.invalidatePlans()
	case EventAPIKeyRevoked:
		s.forgetKey(c.KeyID)
	case EventPriceBooks:
		_, err := s.RefreshLiveBook(ctx)
		return err
	case EventsLive:
		s.ledger.setLive(true)
	case EventsLost:
		s.ForgetAccounts()
		s.forgetKeys()
		s.invalidatePlans()
		_, err := s.RefreshLiveBook(ctx)
		return err
	}
	return nil
}
