-- Card testing by network and by failed payments (issue 20). The network a checkout session
-- was opened from, and every failed payment (a declined Checkout card, a failed asynchronous
-- payment, a declined auto-recharge), for the card-testing detector.

-- The network (/24 IPv4, /64 IPv6) of the client that opened a checkout session.
CREATE TABLE checkout_ips (
    session_id text PRIMARY KEY REFERENCES checkout_sessions (id),
    account_id text NOT NULL,
    ip_prefix  text NOT NULL CHECK (length(ip_prefix) <= 64),
    created_at timestamptz NOT NULL
);
CREATE INDEX checkout_ips_prefix_idx ON checkout_ips (ip_prefix, created_at);
CREATE INDEX checkout_ips_time_idx ON checkout_ips (created_at);
CREATE INDEX checkout_ips_account_idx ON checkout_ips (account_id, created_at DESC);

-- One row per failed payment; ref names it once (replayed events add nothing). ip_prefix is
-- the network of the checkout session it belongs to, or of the account's latest checkout
-- before it ('' when unknown, e.g. an off-session auto-recharge).
CREATE TABLE payment_failures (
    ref        text PRIMARY KEY CHECK (length(ref) <= 300),
    account_id text NOT NULL,
    source     text NOT NULL CHECK (source IN ('checkout', 'payment_intent', 'auto_recharge')),
    ip_prefix  text NOT NULL DEFAULT '' CHECK (length(ip_prefix) <= 64),
    created_at timestamptz NOT NULL
);
CREATE INDEX payment_failures_time_idx ON payment_failures (created_at);
CREATE INDEX payment_failures_prefix_idx ON payment_failures (ip_prefix, created_at) WHERE ip_prefix <> '';

-- The abuse fold reads the ledger behind the same horizon as the revenue consumer (0023): ids
-- up to pending_upto were handed out before the transactions in pending_vxids (the writers of
-- ledger_entries then) were listed; once those have ended, every id up to it is committed or
-- gone for good.
ALTER TABLE abuse_cursor
    ADD COLUMN pending_upto  bigint NOT NULL DEFAULT 0,
    ADD COLUMN pending_vxids text[] NOT NULL DEFAULT '{}';
