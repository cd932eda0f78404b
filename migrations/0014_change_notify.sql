-- Every instance caches account settings, plans and published price books in memory. A change
-- made anywhere is announced to every instance listening (store.Listen) when it commits, so the
-- next request on any instance answers from the new state. Only the settings columns notify:
-- debits rewrite balance, reserved, debt, period_*, last_topup and version, never these, so
-- the debit hot path sends nothing. The payload is "<id> <version after the change>": a
-- listener refuses to cache any older state of that account afterwards.
CREATE FUNCTION accounts_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('creditline_accounts', NEW.id || ' ' || NEW.version);
    RETURN NULL;
END $$;
CREATE TRIGGER accounts_settings_changed
    AFTER UPDATE OF name, email, external_id, status, status_reason, plan_key, overdraft_limit,
        spend_limit, spend_limit_mode, low_balance_threshold ON accounts
    FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.email IS DISTINCT FROM NEW.email
        OR OLD.external_id IS DISTINCT FROM NEW.external_id OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.status_reason IS DISTINCT FROM NEW.status_reason OR OLD.plan_key IS DISTINCT FROM NEW.plan_key
        OR OLD.overdraft_limit IS DISTINCT FROM NEW.overdraft_limit OR OLD.spend_limit IS DISTINCT FROM NEW.spend_limit
        OR OLD.spend_limit_mode IS DISTINCT FROM NEW.spend_limit_mode
        OR OLD.low_balance_threshold IS DISTINCT FROM NEW.low_balance_threshold)
    EXECUTE FUNCTION accounts_notify_change();

CREATE FUNCTION api_key_notify_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('creditline_api_keys', NEW.id);
    RETURN NULL;
END $$;

CREATE FUNCTION catalog_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_ARGV[0], '');
    RETURN NULL;
END $$;
-- The plan cache reloads every plan at once: one notification per statement.
CREATE TRIGGER plans_changed AFTER INSERT OR UPDATE OR DELETE ON plans
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_notify_change('creditline_plans');
-- Drafts are nobody's business but the editor's; a publication reaches every instance.
CREATE TRIGGER price_books_published AFTER INSERT OR UPDATE ON price_books
    FOR EACH ROW WHEN (NEW.status = 'published') EXECUTE FUNCTION catalog_notify_change('creditline_price_books');

-- A revoked key is refused at once by every instance, not when its cached copy expires.
CREATE TRIGGER api_keys_revoked AFTER UPDATE OF revoked_at ON api_keys
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION api_key_notify_revoked();

-- The portal command (portal apikey ...) is an audit actor of its own.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_actor_kind_check,
    ADD CONSTRAINT audit_log_actor_kind_check CHECK (actor_kind IN ('user', 'api_key', 'webhook', 'job', 'system', 'cli'));
