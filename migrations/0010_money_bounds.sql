-- Money bounds and test-mode payments.
--
-- Bounds: one credit input (a grant, a debit, a hold, a limit, a pack) is at most 10^12 credits
-- = 10^15 millicredits; a running total (balance, reserved, spend this period, entry amounts
-- and balances after) stays within ±10^18 millicredits, 1,000 × that, the bounds billing
-- enforces (billing/bounds.go). int64 ends near 9.2 × 10^18, so no sum of a total and an input
-- can wrap. Money in minor units is at most 10^12.
--
-- Each constraint is added NOT VALID: PostgreSQL then checks every new or updated row at once,
-- without scanning the existing rows under this migration's ACCESS EXCLUSIVE lock. `portal
-- migrate` validates them afterwards, one statement each, under a lock that lets reads and
-- writes go on (store.ValidateConstraints); rows older than the bounds keep them unvalidated
-- and `portal verify` names their accounts.

ALTER TABLE grants
    ADD COLUMN test_mode boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT grants_amount_bound CHECK (amount <= 1000000000000000) NOT VALID,
    ADD CONSTRAINT grants_paid_amount_bound CHECK (paid_amount <= 1000000000000) NOT VALID;
COMMENT ON COLUMN grants.test_mode IS 'fulfilled by the test-mode payment provider: no money moved; never revenue';

ALTER TABLE payments
    ADD COLUMN test_mode boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT payments_amount_bound CHECK (amount <= 1000000000000) NOT VALID,
    ADD CONSTRAINT payments_credits_bound CHECK (credits BETWEEN 0 AND 1000000000000000) NOT VALID;
COMMENT ON COLUMN payments.test_mode IS 'paid through the test-mode payment provider: no money moved; never revenue';

ALTER TABLE accounts
    ADD CONSTRAINT accounts_balance_bound CHECK (balance BETWEEN -1000000000000000000 AND 1000000000000000000) NOT VALID,
    ADD CONSTRAINT accounts_reserved_bound CHECK (reserved <= 1000000000000000000) NOT VALID,
    ADD CONSTRAINT accounts_debt_bound CHECK (debt <= 1000000000000000000) NOT VALID,
    ADD CONSTRAINT accounts_period_spent_bound CHECK (period_spent <= 1000000000000000000) NOT VALID,
    ADD CONSTRAINT accounts_overdraft_limit_bound CHECK (overdraft_limit <= 1000000000000000) NOT VALID,
    ADD CONSTRAINT accounts_spend_limit_bound CHECK (spend_limit <= 1000000000000000) NOT VALID,
    ADD CONSTRAINT accounts_low_balance_threshold_bound CHECK (low_balance_threshold <= 1000000000000000) NOT VALID,
    ADD CONSTRAINT accounts_last_topup_bound CHECK (last_topup BETWEEN 0 AND 1000000000000000) NOT VALID;

ALTER TABLE holds
    ADD CONSTRAINT holds_amount_bound CHECK (amount <= 1000000000000000) NOT VALID;

ALTER TABLE debits
    ADD CONSTRAINT debits_amount_bound CHECK (amount <= 1000000000000000 AND requested <= 1000000000000000
        AND overdraft <= 1000000000000000) NOT VALID,
    ADD CONSTRAINT debits_after_bound CHECK (balance_after BETWEEN -1000000000000000000 AND 1000000000000000000
        AND available_after BETWEEN -2000000000000000000 AND 2000000000000000000) NOT VALID;

ALTER TABLE ledger_entries
    ADD CONSTRAINT ledger_entries_amount_bound CHECK (amount BETWEEN -1000000000000000000 AND 1000000000000000000
        AND balance_after BETWEEN -1000000000000000000 AND 1000000000000000000) NOT VALID;

ALTER TABLE usage_events
    ADD CONSTRAINT usage_events_credits_bound CHECK (credits BETWEEN 0 AND 1000000000000000) NOT VALID;

ALTER TABLE packs
    ADD CONSTRAINT packs_credits_bound CHECK (credits::numeric + bonus_credits <= 1000000000000000) NOT VALID;

ALTER TABLE plans
    ADD CONSTRAINT plans_credits_bound CHECK (credits_per_period <= 1000000000000000 AND rollover_cap <= 1000000000000000) NOT VALID;

ALTER TABLE autorecharge_settings
    ADD CONSTRAINT autorecharge_settings_bound CHECK (threshold <= 1000000000000000 AND monthly_cap_amount <= 1000000000000) NOT VALID;

ALTER TABLE recharges
    ADD CONSTRAINT recharges_credits_bound CHECK (credits <= 1000000000000000 AND amount <= 1000000000000) NOT VALID;
