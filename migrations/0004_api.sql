-- JSON API: keys, usage events, spend controls.

CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('platform', 'account')),
    account_id   text REFERENCES accounts (id),
    name         text NOT NULL,
    prefix       text NOT NULL,
    hash         text NOT NULL,
    created_by   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CONSTRAINT api_keys_account_scope CHECK ((kind = 'account') = (account_id IS NOT NULL))
);
CREATE UNIQUE INDEX api_keys_hash_key ON api_keys (hash);
CREATE INDEX api_keys_account_idx ON api_keys (account_id, created_at DESC);

ALTER TABLE accounts
    ADD COLUMN email                 text NOT NULL DEFAULT '',
    ADD COLUMN spend_limit           bigint CHECK (spend_limit >= 0),
    ADD COLUMN spend_limit_mode      text NOT NULL DEFAULT 'hard' CHECK (spend_limit_mode IN ('hard', 'soft')),
    ADD COLUMN period_start          timestamptz,
    ADD COLUMN period_spent          bigint NOT NULL DEFAULT 0 CHECK (period_spent >= 0),
    ADD COLUMN low_balance_threshold bigint CHECK (low_balance_threshold >= 0),
    ADD COLUMN last_topup            bigint NOT NULL DEFAULT 0;

ALTER TABLE holds
    ADD COLUMN action     text NOT NULL DEFAULT '',
    ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN quantities jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN api_key_id text NOT NULL DEFAULT '';

-- One row per priced and charged AI action; exactly one debit each (invariant 4).
CREATE TABLE usage_events (
    id                    text PRIMARY KEY,
    account_id            text NOT NULL,
    debit_id              text NOT NULL UNIQUE,
    action                text NOT NULL,
    model                 text NOT NULL DEFAULT '',
    -- json, not jsonb: written on every debit, read only for display (no operators on them).
    quantities            json NOT NULL,
    attributes            json NOT NULL,
    credits               bigint NOT NULL,
    vendor_cost_micro_usd bigint NOT NULL DEFAULT 0,
    price_version         integer NOT NULL,
    breakdown             json NOT NULL,
    idempotency_key       text NOT NULL,
    api_key_id            text NOT NULL DEFAULT '',
    client_ip             text NOT NULL DEFAULT '',
    metadata              json,
    prompt_hash           text NOT NULL DEFAULT '',
    batch                 boolean NOT NULL DEFAULT false,
    hold_id               text,
    warnings              text[] NOT NULL DEFAULT '{}',
    occurred_at           timestamptz NOT NULL,
    created_at            timestamptz NOT NULL
);
CREATE INDEX usage_account_time_idx ON usage_events (account_id, occurred_at DESC, id DESC);
CREATE INDEX usage_account_action_idx ON usage_events (account_id, action, occurred_at DESC, id DESC);
CREATE INDEX usage_account_model_idx ON usage_events (account_id, model, occurred_at DESC, id DESC);
CREATE INDEX usage_prompt_hash_idx ON usage_events (account_id, prompt_hash) WHERE prompt_hash <> '';

-- Daily rollups, written in the same statement as the events, so dashboards never scan events.
CREATE TABLE usage_daily (
    account_id            text NOT NULL,
    day                   date NOT NULL,
    action                text NOT NULL,
    model                 text NOT NULL DEFAULT '',
    events                bigint NOT NULL DEFAULT 0,
    credits               bigint NOT NULL DEFAULT 0,
    vendor_cost_micro_usd bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day, action, model)
);
