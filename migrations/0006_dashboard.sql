-- Customer dashboard: the usage page filters by action and model together; with only the
-- single-column indexes a rare combination walks every event of one of them (seconds on an
-- account with a million events). This index answers it, newest first, in one range scan.
CREATE INDEX usage_account_action_model_idx ON usage_events (account_id, action, model, occurred_at DESC, id DESC);
