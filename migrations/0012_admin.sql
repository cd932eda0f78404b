-- Admin console. The overview sums rollups by day across accounts, and expiries by time:
-- usage_daily gains a row per account, day, action and model (rarely, never per event), and
-- the partial index on ledger_entries holds expiry entries only, so debits add nothing to it.
CREATE INDEX usage_daily_day_idx ON usage_daily (day);
CREATE INDEX ledger_expire_idx ON ledger_entries (created_at) WHERE kind = 'expire';

-- A failed job the operator gives up on is cancelled (kept for the record, never run).
ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled'));
