-- Revenue recognition, margin and vendor reconciliation (issue 21).
--
-- A job (billing/revenue) consumes committed ledger entries in id order and keeps these
-- rollups; reports read only them. Nothing here is written on the debit path.

-- The consumer's position. Every ledger entry with id <= consumed is counted exactly once.
-- pending_upto and pending_vxids make the horizon safe: ids up to pending_upto were handed out
-- before the transactions in pending_vxids (those holding a write lock on ledger_entries) were
-- listed; once none of them is running, no entry with id <= pending_upto can still appear.
CREATE TABLE revenue_cursor (
    id            smallint PRIMARY KEY CHECK (id = 1),
    consumed      bigint NOT NULL DEFAULT 0,
    pending_upto  bigint NOT NULL DEFAULT 0,
    pending_vxids text[] NOT NULL DEFAULT '{}',
    updated_at    timestamptz NOT NULL DEFAULT now()
);
INSERT INTO revenue_cursor (id) VALUES (1);

-- Per paid grant: millicredits used (consumed, expired or revoked) as counted so far, and the
-- cents moved out of deferred, always floor(paid_amount * used / amount).
CREATE TABLE revenue_grants (
    grant_id text PRIMARY KEY,
    used     bigint NOT NULL CHECK (used >= 0),
    moved    bigint NOT NULL CHECK (moved >= 0)
);

-- Per month (first day, UTC) and currency, in minor units. Deferred is derived: the running sum
-- of cash - recognised - breakage - refunds.
CREATE TABLE revenue_monthly (
    month              date NOT NULL,
    currency           text NOT NULL,
    cash_packs         bigint NOT NULL DEFAULT 0,
    cash_subscriptions bigint NOT NULL DEFAULT 0,
    cash_recharges     bigint NOT NULL DEFAULT 0,
    cash_other         bigint NOT NULL DEFAULT 0,
    recognised         bigint NOT NULL DEFAULT 0,
    breakage           bigint NOT NULL DEFAULT 0,
    refunds            bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (month, currency)
);

-- Recognised revenue by the action and model whose debits earned it.
CREATE TABLE revenue_margin (
    month      date NOT NULL,
    currency   text NOT NULL,
    action     text NOT NULL,
    model      text NOT NULL,
    recognised bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (month, currency, action, model)
);

-- Vendor cost and credits by month, action and model (each usage event counted once).
CREATE TABLE usage_cost_monthly (
    month                 date NOT NULL,
    action                text NOT NULL,
    model                 text NOT NULL,
    events                bigint NOT NULL DEFAULT 0,
    credits               bigint NOT NULL DEFAULT 0,
    vendor_cost_micro_usd bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (month, action, model)
);

-- Recorded usage by the day it happened and model, for reconciliation against vendor exports.
-- units: the sum of the event's numeric quantities (tokens, images, seconds).
CREATE TABLE usage_units_daily (
    day                   date NOT NULL,
    model                 text NOT NULL,
    events                bigint NOT NULL DEFAULT 0,
    units                 bigint NOT NULL DEFAULT 0,
    vendor_cost_micro_usd bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, model)
);

-- Each vendor file imported, with its result; rows are the comparison line by line.
CREATE TABLE vendor_imports (
    id          text PRIMARY KEY,
    filename    text NOT NULL,
    format      text NOT NULL CHECK (format IN ('csv', 'json')),
    rows        integer NOT NULL CHECK (rows >= 0),
    flagged     integer NOT NULL CHECK (flagged >= 0),
    actor       text NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX vendor_imports_created_idx ON vendor_imports (created_at DESC);

CREATE TABLE vendor_import_rows (
    import_id           text NOT NULL REFERENCES vendor_imports (id),
    day                 date NOT NULL,
    model               text NOT NULL,
    vendor_units        bigint NOT NULL,
    vendor_cost_micro   bigint NOT NULL,
    recorded_units      bigint NOT NULL,
    recorded_cost_micro bigint NOT NULL,
    flagged             boolean NOT NULL,
    PRIMARY KEY (import_id, day, model)
);
