-- The credit ledger: grants (credit lots), debits, holds, and the append-only ledger.
-- Money columns are bigint millicredits.

ALTER TABLE accounts
    ADD COLUMN debt bigint NOT NULL DEFAULT 0 CHECK (debt >= 0);
COMMENT ON COLUMN accounts.balance IS 'cache: sum(grants.remaining) - debt; kept in step by every ledger write';
COMMENT ON COLUMN accounts.debt IS 'overdraft drawn and not yet repaid by a later grant';

CREATE TABLE grants (
    id                      text PRIMARY KEY,
    account_id              text NOT NULL REFERENCES accounts (id),
    source                  text NOT NULL CHECK (source IN ('purchase', 'subscription', 'auto_recharge', 'promo', 'trial', 'adjustment', 'refund_restore')),
    amount                  bigint NOT NULL CHECK (amount > 0),
    remaining               bigint NOT NULL,
    priority                integer NOT NULL,
    effective_at            timestamptz NOT NULL,
    expires_at              timestamptz,
    expired_at              timestamptz,
    paid_amount             bigint NOT NULL DEFAULT 0 CHECK (paid_amount >= 0),
    currency                text NOT NULL DEFAULT 'usd',
    stripe_checkout_session text,
    stripe_payment_intent   text,
    stripe_invoice          text,
    idempotency_key         text,
    request_hash            text NOT NULL DEFAULT '',
    actor                   text NOT NULL,
    reason                  text NOT NULL DEFAULT '',
    created_at              timestamptz NOT NULL,
    CONSTRAINT grants_remaining_range CHECK (remaining >= 0 AND remaining <= amount),
    CONSTRAINT grants_expiry_after_effective CHECK (expires_at IS NULL OR expires_at > effective_at)
);
CREATE UNIQUE INDEX grants_idempotency_key ON grants (account_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX grants_live_idx ON grants (account_id, priority, expires_at, created_at) WHERE remaining > 0;
CREATE INDEX grants_expiry_idx ON grants (expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;
CREATE INDEX grants_account_idx ON grants (account_id, created_at);

CREATE TABLE holds (
    id              text PRIMARY KEY,
    account_id      text NOT NULL REFERENCES accounts (id),
    amount          bigint NOT NULL CHECK (amount > 0),
    status          text NOT NULL CHECK (status IN ('active', 'committed', 'released', 'expired')),
    expires_at      timestamptz NOT NULL,
    idempotency_key text NOT NULL,
    request_hash    text NOT NULL DEFAULT '',
    debit_id        text,
    actor           text NOT NULL,
    reason          text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    closed_at       timestamptz
);
CREATE UNIQUE INDEX holds_idempotency_key ON holds (account_id, idempotency_key);
CREATE INDEX holds_active_idx ON holds (expires_at) WHERE status = 'active';
CREATE INDEX holds_account_idx ON holds (account_id, created_at);

-- debits, ledger_entries and usage_events are the hot path: they carry no foreign keys (each
-- would cost an index probe and a row lock per inserted row); `portal verify` checks that every
-- reference resolves instead.
CREATE TABLE debits (
    id              text PRIMARY KEY,
    account_id      text NOT NULL,
    idempotency_key text NOT NULL,
    request_hash    text NOT NULL DEFAULT '',
    amount          bigint NOT NULL CHECK (amount >= 0),
    requested       bigint NOT NULL CHECK (requested >= 0),
    overdraft       bigint NOT NULL DEFAULT 0 CHECK (overdraft >= 0),
    hold_id         text,
    balance_after   bigint NOT NULL,
    available_after bigint NOT NULL,
    actor           text NOT NULL,
    reason          text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX debits_idempotency_key ON debits (account_id, idempotency_key);
CREATE INDEX debits_account_idx ON debits (account_id, created_at DESC);

CREATE TABLE ledger_entries (
    id            bigserial PRIMARY KEY,
    account_id    text NOT NULL,
    grant_id      text,
    debit_id      text,
    hold_id       text,
    kind          text NOT NULL CHECK (kind IN ('grant', 'debit', 'hold', 'release', 'expire', 'revoke', 'adjust')),
    amount        bigint NOT NULL,
    balance_after bigint NOT NULL,
    actor         text NOT NULL,
    reason        text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL
);
CREATE INDEX ledger_account_idx ON ledger_entries (account_id, id DESC);
CREATE INDEX ledger_grant_idx ON ledger_entries (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX ledger_debit_idx ON ledger_entries (debit_id) WHERE debit_id IS NOT NULL;
CREATE INDEX ledger_hold_idx ON ledger_entries (hold_id) WHERE hold_id IS NOT NULL;

-- Nothing in the ledger is ever updated or deleted.
CREATE FUNCTION ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_entries is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ledger_no_update BEFORE UPDATE OR DELETE ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_is_append_only();

-- Durable background jobs, enqueued in the same transaction as their cause.
CREATE TABLE jobs (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL,
    payload      jsonb NOT NULL DEFAULT '{}',
    unique_key   text,
    status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    run_at       timestamptz NOT NULL DEFAULT now(),
    attempts     integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL DEFAULT 10,
    last_error   text NOT NULL DEFAULT '',
    locked_until timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key) WHERE unique_key IS NOT NULL AND status IN ('queued', 'running');
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE status = 'queued';
CREATE INDEX jobs_running_idx ON jobs (locked_until) WHERE status = 'running';
