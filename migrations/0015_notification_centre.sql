-- The notification centre (issue 17). rule_id names the alert rule that raised a notification
-- (filled by alert delivery; NULL for notices raised by payments). Lists page newest first by
-- id, and the unread count runs on every signed-in page, so both have an index of their own:
-- the partial index holds only unread rows and stays small however long the history grows.
ALTER TABLE notifications ADD COLUMN rule_id text;
CREATE INDEX notifications_account_id_idx ON notifications (account_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (account_id) WHERE read_at IS NULL;
