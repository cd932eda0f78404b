-- The audit log: who changed what, when, why, with the state before and after. Written in
-- the same transaction as the change it records; append-only like the ledger.
CREATE TABLE audit_log (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL,
    actor_kind      text NOT NULL CHECK (actor_kind IN ('user', 'api_key', 'webhook', 'job', 'system')),
    actor_id        text NOT NULL DEFAULT '',
    action          text NOT NULL,
    account_id      text,
    reason          text NOT NULL DEFAULT '',
    before          jsonb,
    after           jsonb,
    request_id      text NOT NULL DEFAULT '',
    -- An operator action carrying a key is done once: a replay finds this row.
    idempotency_key text,
    request_hash    text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_account_idx ON audit_log (account_id, id DESC) WHERE account_id IS NOT NULL;
CREATE INDEX audit_log_actor_idx ON audit_log (actor_kind, actor_id, id DESC);
CREATE UNIQUE INDEX audit_log_idempotency_key ON audit_log (account_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

-- The console's customer search matches prefixes of these (lower-cased where people type them).
CREATE INDEX accounts_name_prefix_idx ON accounts (lower(name) text_pattern_ops);
CREATE INDEX accounts_email_prefix_idx ON accounts (lower(email) text_pattern_ops);
CREATE INDEX accounts_external_id_prefix_idx ON accounts (lower(external_id) text_pattern_ops);
CREATE INDEX accounts_id_prefix_idx ON accounts (id text_pattern_ops);
CREATE INDEX users_email_prefix_idx ON users (email text_pattern_ops);
