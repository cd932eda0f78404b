-- Dunning: one case per subscription whose invoice failed. A case is open until a paid
-- invoice resolves it (or the subscription ends); a later failure opens it again.
CREATE TABLE dunning (
    subscription_id text PRIMARY KEY REFERENCES subscriptions (id),
    account_id      text NOT NULL REFERENCES accounts (id),
    invoice_id      text NOT NULL,
    plan_key        text NOT NULL,
    amount          bigint NOT NULL DEFAULT 0 CHECK (amount >= 0),
    currency        text NOT NULL DEFAULT 'usd',
    failed_at       timestamptz NOT NULL,
    grace_ends_at   timestamptz NOT NULL CHECK (grace_ends_at > failed_at),
    reminded_at     timestamptz,
    downgraded_at   timestamptz,
    resolved_at     timestamptz
);
CREATE INDEX dunning_account_idx ON dunning (account_id) WHERE resolved_at IS NULL;
