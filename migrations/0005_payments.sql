-- Payments: Stripe customers, checkout sessions, subscriptions, payments, webhook events,
-- refunds, auto-recharge, notifications and abuse flags. Amounts of money are integer
-- minor units (cents); credits are bigint millicredits.

-- One Stripe customer per account, created on the first purchase.
CREATE TABLE stripe_customers (
    account_id     text PRIMARY KEY REFERENCES accounts (id),
    customer_id    text NOT NULL UNIQUE,
    payment_method text NOT NULL DEFAULT '', -- saved by a pack checkout (setup_future_usage=off_session)
    created_at     timestamptz NOT NULL
);

-- Checkout sessions we created (Stripe's or test mode's), for the checkout page and the audit trail.
CREATE TABLE checkout_sessions (
    id         text PRIMARY KEY,
    account_id text NOT NULL REFERENCES accounts (id),
    kind       text NOT NULL CHECK (kind IN ('pack', 'plan', 'auto_recharge')),
    item_key   text NOT NULL, -- pack key, plan key, or recharge id (finishing an SCA payment on session)
    amount     bigint NOT NULL CHECK (amount >= 0),
    currency   text NOT NULL,
    status     text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'complete', 'expired')),
    url        text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX checkout_sessions_account_idx ON checkout_sessions (account_id, created_at DESC);

-- Stripe subscriptions as the webhooks describe them. last_event_at orders out-of-order events.
CREATE TABLE subscriptions (
    id                   text PRIMARY KEY,
    account_id           text NOT NULL REFERENCES accounts (id),
    plan_key             text NOT NULL REFERENCES plans (key),
    status               text NOT NULL,
    current_period_end   timestamptz,
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    last_event_at        timestamptz NOT NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);
CREATE INDEX subscriptions_account_idx ON subscriptions (account_id, updated_at DESC);

-- Money that moved (or was refused), one row per checkout session, invoice or recharge.
CREATE TABLE payments (
    id              text PRIMARY KEY,
    account_id      text NOT NULL REFERENCES accounts (id),
    kind            text NOT NULL CHECK (kind IN ('pack', 'plan', 'auto_recharge')),
    ref             text NOT NULL UNIQUE, -- checkout session, invoice or recharge id
    payment_intent  text,
    description     text NOT NULL,
    amount          bigint NOT NULL CHECK (amount >= 0),
    amount_refunded bigint NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0 AND amount_refunded <= amount),
    currency        text NOT NULL,
    credits         bigint NOT NULL DEFAULT 0,
    status          text NOT NULL CHECK (status IN ('succeeded', 'refunded', 'partially_refunded')),
    receipt_url     text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);
CREATE INDEX payments_account_idx ON payments (account_id, created_at DESC);
CREATE INDEX payments_payment_intent_idx ON payments (payment_intent) WHERE payment_intent IS NOT NULL;

-- Every webhook event, stored by id with its outcome; an event is processed once.
CREATE TABLE stripe_events (
    id           text PRIMARY KEY,
    type         text NOT NULL,
    status       text NOT NULL CHECK (status IN ('received', 'processed', 'failed')),
    outcome      text NOT NULL DEFAULT '',
    attempts     integer NOT NULL DEFAULT 0,
    created      timestamptz NOT NULL, -- Stripe's event time
    received_at  timestamptz NOT NULL,
    processed_at timestamptz
);

-- Refunds by charge: amount_refunded is Stripe's cumulative figure already applied, so a
-- replayed or late charge.refunded never revokes twice.
CREATE TABLE refunds (
    charge_id       text PRIMARY KEY,
    account_id      text NOT NULL REFERENCES accounts (id),
    grant_id        text NOT NULL REFERENCES grants (id),
    charge_amount   bigint NOT NULL CHECK (charge_amount > 0),
    amount_refunded bigint NOT NULL CHECK (amount_refunded >= 0),
    revoked         bigint NOT NULL DEFAULT 0 CHECK (revoked >= 0),
    shortfall       bigint NOT NULL DEFAULT 0 CHECK (shortfall >= 0),
    updated_at      timestamptz NOT NULL
);

-- Raised for the abuse review queue (e.g. refund_after_consumption).
CREATE TABLE abuse_flags (
    id         bigserial PRIMARY KEY,
    account_id text NOT NULL REFERENCES accounts (id),
    kind       text NOT NULL,
    ref        text NOT NULL, -- what raised it, unique per kind so a replay raises nothing new
    evidence   jsonb NOT NULL DEFAULT '{}',
    status     text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dismissed', 'actioned')),
    created_at timestamptz NOT NULL,
    UNIQUE (kind, ref)
);

-- In-app notifications; key dedups one notice per cause.
CREATE TABLE notifications (
    id         bigserial PRIMARY KEY,
    account_id text NOT NULL REFERENCES accounts (id),
    kind       text NOT NULL,
    level      text NOT NULL DEFAULT 'info' CHECK (level IN ('info', 'warning', 'error')),
    message    text NOT NULL,
    link       text NOT NULL DEFAULT '',
    key        text NOT NULL,
    created_at timestamptz NOT NULL,
    read_at    timestamptz,
    UNIQUE (account_id, key)
);
CREATE INDEX notifications_account_idx ON notifications (account_id, created_at DESC);

CREATE TABLE autorecharge_settings (
    account_id          text PRIMARY KEY REFERENCES accounts (id),
    enabled             boolean NOT NULL DEFAULT false,
    threshold           bigint NOT NULL CHECK (threshold >= 0),
    pack_key            text NOT NULL REFERENCES packs (key),
    monthly_cap_count   integer NOT NULL CHECK (monthly_cap_count >= 1),
    monthly_cap_amount  bigint NOT NULL CHECK (monthly_cap_amount >= 1),
    currency            text NOT NULL DEFAULT 'usd',
    consecutive_declines integer NOT NULL DEFAULT 0 CHECK (consecutive_declines >= 0),
    backoff_until       timestamptz,
    disabled_reason     text NOT NULL DEFAULT '',
    updated_at          timestamptz NOT NULL
);

-- Off-session charges. At most one in flight per account: a pending payment counts.
CREATE TABLE recharges (
    id              text PRIMARY KEY,
    account_id      text NOT NULL REFERENCES accounts (id),
    pack_key        text NOT NULL REFERENCES packs (key),
    packs           integer NOT NULL CHECK (packs >= 1),
    credits         bigint NOT NULL CHECK (credits > 0),
    amount          bigint NOT NULL CHECK (amount > 0),
    currency        text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'processing', 'requires_action', 'succeeded', 'failed')),
    payment_intent  text UNIQUE,
    failure         text NOT NULL DEFAULT '',
    action_url      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX recharges_one_in_flight ON recharges (account_id) WHERE status IN ('pending', 'processing', 'requires_action');
CREATE INDEX recharges_account_idx ON recharges (account_id, created_at DESC);
