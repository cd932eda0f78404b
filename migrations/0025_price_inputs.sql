-- Issue 19, the rest: a rollup of usage by what prices it, so the impact simulation reads a
-- few thousand rows instead of a month of events; Stripe price ids on plans and packs; the
-- simulation's result, kept where every instance can show it.

-- Distinct price inputs per account, day (UTC), action and model: the hour (which with the
-- day picks a schedule window), the quantities and attributes as written (prompt_hash taken
-- out: never a price input), the batch flag, and how many events, credits and vendor cost.
-- A job (billing/simulate Fold) rebuilds a whole slice (account, day, action, model) at once,
-- off the debit path, from one snapshot of usage_events.
CREATE TABLE usage_price_inputs (
    account_id            text NOT NULL,
    day                   date NOT NULL,
    action                text NOT NULL,
    model                 text NOT NULL,
    hour                  smallint NOT NULL CHECK (hour BETWEEN 0 AND 23),
    quantities            text NOT NULL,
    attributes            text NOT NULL,
    batch                 boolean NOT NULL,
    events                bigint NOT NULL CHECK (events > 0),
    credits               bigint NOT NULL,
    vendor_cost_micro_usd bigint NOT NULL
);
CREATE INDEX usage_price_inputs_slice_idx ON usage_price_inputs (account_id, day, action, model);
CREATE INDEX usage_price_inputs_day_idx ON usage_price_inputs (day);

-- Each slice folded, with the usage_daily figures of the snapshot it was folded from. A slice
-- is fresh while usage_daily (written in the same statement as the events) still shows these
-- figures; otherwise its rows are stale and readers go to usage_events for that slice.
CREATE TABLE usage_price_slices (
    account_id            text NOT NULL,
    day                   date NOT NULL,
    action                text NOT NULL,
    model                 text NOT NULL,
    events                bigint NOT NULL,
    credits               bigint NOT NULL,
    vendor_cost_micro_usd bigint NOT NULL,
    folded_at             timestamptz NOT NULL,
    PRIMARY KEY (account_id, day, action, model)
);
CREATE INDEX usage_price_slices_day_idx ON usage_price_slices (day);

-- One row: whoever holds it folds; another instance skips its turn.
CREATE TABLE usage_price_fold (
    id        smallint PRIMARY KEY CHECK (id = 1),
    folded_at timestamptz
);
INSERT INTO usage_price_fold (id) VALUES (1);

-- Stripe price ids, by currency ({"usd": "price_..."}), used by Checkout instead of an inline
-- price when Stripe keys are set and the chosen currency has one.
ALTER TABLE plans
    ADD COLUMN stripe_price_monthly jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN stripe_price_yearly  jsonb NOT NULL DEFAULT '{}';
ALTER TABLE packs
    ADD COLUMN stripe_prices jsonb NOT NULL DEFAULT '{}';

-- The latest impact simulation of each draft (of the edit it simulated, stamp = the draft's
-- updated_at): its progress while it runs and its figures once done, for every instance to
-- show. The instance running it writes its progress every half second (updated_at); a run
-- whose instance stopped writing is started again by the next request for it.
CREATE TABLE price_simulations (
    draft_id    bigint PRIMARY KEY REFERENCES price_book_drafts (id) ON DELETE CASCADE,
    stamp       timestamptz NOT NULL,
    started_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    finished_at timestamptz,
    done        bigint NOT NULL DEFAULT 0 CHECK (done >= 0),
    total       bigint NOT NULL DEFAULT 0 CHECK (total >= 0),
    result      jsonb,
    error_code  text NOT NULL DEFAULT '' CHECK (length(error_code) <= 50),
    error       text NOT NULL DEFAULT '' CHECK (length(error) <= 500)
);
