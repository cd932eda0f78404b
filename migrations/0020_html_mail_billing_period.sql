-- Mail carries an HTML alternative of its plain-text body ('' for mail written before).
ALTER TABLE outbox ADD COLUMN html_body text NOT NULL DEFAULT '';

-- A subscribed account's spend period is its subscription's billing period: the account keeps
-- the current period of its live subscription (both NULL: calendar months, UTC).
ALTER TABLE subscriptions ADD COLUMN current_period_start timestamptz;
ALTER TABLE accounts
    ADD COLUMN billing_period_start timestamptz,
    ADD COLUMN billing_period_end   timestamptz,
    ADD CONSTRAINT accounts_billing_period_check CHECK ((billing_period_start IS NULL) = (billing_period_end IS NULL)
        AND (billing_period_start IS NULL OR billing_period_end > billing_period_start));
-- The period is a setting every instance caches with the account: announce its changes as 0014
-- does the others'.
CREATE TRIGGER accounts_billing_period_changed
    AFTER UPDATE OF billing_period_start, billing_period_end ON accounts
    FOR EACH ROW
    WHEN (OLD.billing_period_start IS DISTINCT FROM NEW.billing_period_start
        OR OLD.billing_period_end IS DISTINCT FROM NEW.billing_period_end)
    EXECUTE FUNCTION accounts_notify_change();

-- Retention prunes old rows by age: these find them without scanning the tables.
CREATE INDEX outbox_sent_prune_idx ON outbox (sent_at) WHERE status = 'sent';
CREATE INDEX jobs_finished_prune_idx ON jobs (finished_at) WHERE status IN ('done', 'failed', 'cancelled');
CREATE INDEX webhook_deliveries_prune_idx ON webhook_deliveries (finished_at) WHERE status <> 'pending';

-- The end of the period a dunning case's failed invoice bills: only that invoice, or one for a
-- later period, settles the case.
ALTER TABLE dunning ADD COLUMN period_end timestamptz;
