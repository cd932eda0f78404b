package billing

import (
	"context"
	"time"
)

// NotificationStore reads and marks the notification centre's rows.
type NotificationStore interface {
	// NotificationsPage lists notifications newest first, older than beforeID (0: from the newest).
	NotificationsPage(ctx context.Context, accountID string, beforeID int64, limit int) ([]Notification, error)
	// UnreadNotifications counts unread notifications, stopping at max.
	UnreadNotifications(ctx context.Context, accountID string, max int) (int, error)
	// MarkNotificationRead errors: not_found (not one of the account's).
	MarkNotificationRead(ctx context.Context, accountID string, id int64, at time.Time) (Notification, error)
	MarkAllNotificationsRead(ctx context.Context, accountID string, at time.Time) error
}

// UnreadCap bounds the unread count the page shell shows ("99+"): counting stops there, so
// the query on every page reads at most that many index entries.
const UnreadCap = 100

// NotificationPage lists an account's notifications newest first: limit of them older than
// beforeID (0: the newest), and the cursor (the last id) when more follow, else 0.
func (s *Service) NotificationPage(ctx context.Context, accountID string, beforeID int64, limit int) ([]Notification, int64, error) {
	ns, err := s.store.NotificationsPage(ctx, accountID, beforeID, limit+1)
	if err != nil {
		return nil, 0, err
	}
	if len(ns) > limit {
		return ns[:limit], ns[limit-1].ID, nil
	}
	return ns, 0, nil
}

// UnreadCount is the number of unread notifications, at most UnreadCap.
func (s *Service) UnreadCount(ctx context.Context, accountID string) (int, error) {
	return s.store.UnreadNotifications(ctx, accountID, UnreadCap)
}

// MarkNotificationRead marks one notification read and returns it; reading is not an account change, so it
// is not audited. Errors: not_found (no such notification in this account).
func (s *Service) MarkNotificationRead(ctx context.Context, accountID string, id int64) (Notification, error) {
	if id <= 0 {
		return Notification{}, Errorf(ENotFound, "No such notification.")
	}
	return s.store.MarkNotificationRead(ctx, accountID, id, s.Now())
}

// MarkAllNotificationsRead marks every unread notification of the account read.
func (s *Service) MarkAllNotificationsRead(ctx context.Context, accountID string) error {
	return s.store.MarkAllNotificationsRead(ctx, accountID, s.Now())
}
