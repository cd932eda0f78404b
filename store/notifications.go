package store

import (
	"context"
	"time"

	"creditline/billing"
)

// NotificationsPage lists an account's notifications newest first (by id), those older than
// beforeID when it is not 0.
func (s *Store) NotificationsPage(ctx context.Context, accountID string, beforeID int64, limit int) ([]billing.Notification, error) {
	var out []billing.Notification
	err := s.db.SelectContext(ctx, &out, `SELECT `+notificationCols+`, rule_id FROM notifications
		WHERE account_id = $1 AND ($2::bigint = 0 OR id < $2) ORDER BY id DESC LIMIT $3`, accountID, beforeID, limit)
	return out, mapErr("notifications page", err)
}

// UnreadNotifications counts an account's unread notifications up to max (the partial index
// notifications_unread_idx answers it without reading the read ones).
func (s *Store) UnreadNotifications(ctx context.Context, accountID string, max int) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM (SELECT 1 FROM notifications
		WHERE account_id = $1 AND read_at IS NULL LIMIT $2) u`, accountID, max)
	return n, mapErr("unread notifications", err)
}

// MarkNotificationRead marks one of the account's notifications read (a read one keeps its
// first read_at) and returns it. Errors: not_found (no such notification in this account).
func (s *Store) MarkNotificationRead(ctx context.Context, accountID string, id int64, at time.Time) (billing.Notification, error) {
	var n billing.Notification
	err := s.db.GetContext(ctx, &n, `UPDATE notifications SET read_at = COALESCE(read_at, $3)
		WHERE account_id = $1 AND id = $2 RETURNING `+notificationCols+`, rule_id`, accountID, id, at)
	return n, mapErr("mark notification read", err)
}

// MarkAllNotificationsRead marks every unread notification of the account read.
func (s *Store) MarkAllNotificationsRead(ctx context.Context, accountID string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE notifications SET read_at = $2 WHERE account_id = $1 AND read_at IS NULL`, accountID, at)
	return mapErr("mark all notifications read", err)
}
