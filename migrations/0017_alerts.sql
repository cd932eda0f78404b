-- Alert rules: a customer's thresholds and the channels each one speaks on. The state columns
-- (firing, crossings, fired_at, resolved_at) make an alert fire once per crossing: a crossing
-- sets firing only where it was not set, in the transaction of the debit or grant that caused
-- it, so a rolled-back debit leaves nothing and a second debit of the same crossing finds it set.
-- threshold's unit depends on kind: thousandths of a credit (balance_below), percent
-- (balance_below_percent of the last top-up, spend_percent of the spend limit), days
-- (credits_expiring); the failure kinds have none (0).
CREATE TABLE alert_rules (
    id          text PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts (id),
    kind        text NOT NULL CHECK (kind IN ('balance_below', 'balance_below_percent', 'spend_percent',
        'credits_expiring', 'recharge_failed', 'payment_failed')),
    threshold   bigint NOT NULL,
    channels    text[] NOT NULL CHECK (channels <@ ARRAY['in_app', 'email', 'webhook']::text[]),
    enabled     boolean NOT NULL DEFAULT true,
    firing      boolean NOT NULL DEFAULT false,
    crossings   bigint NOT NULL DEFAULT 0 CHECK (crossings >= 0),
    fired_at    timestamptz,
    resolved_at timestamptz,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT alert_rules_threshold_check CHECK (CASE kind
        WHEN 'balance_below' THEN threshold BETWEEN 0 AND 1000000000000000
        WHEN 'balance_below_percent' THEN threshold BETWEEN 1 AND 100
        WHEN 'spend_percent' THEN threshold BETWEEN 1 AND 1000
        WHEN 'credits_expiring' THEN threshold BETWEEN 1 AND 365
        ELSE threshold = 0 END)
);
CREATE INDEX alert_rules_account_idx ON alert_rules (account_id, created_at, id);

-- Time-based alerts fire once per grant and rule: the key is the grant.
CREATE TABLE alert_grant_notices (
    rule_id    text NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    grant_id   text NOT NULL REFERENCES grants (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (rule_id, grant_id)
);

-- The in-app channel names the rule a notification came from (the limits work may add it first).
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS rule_id text;

-- The default rules of every existing account; new accounts get them in their creation
-- transaction (billing.defaultAlertRules).
INSERT INTO alert_rules (id, account_id, kind, threshold, channels, created_at, updated_at)
SELECT 'alr_' || substr(md5(a.id || d.kind || d.threshold::text || random()::text), 1, 20), a.id, d.kind,
    d.threshold, ARRAY['in_app', 'email'], now(), now()
FROM accounts a CROSS JOIN (VALUES ('balance_below_percent', 20), ('spend_percent', 80), ('spend_percent', 100),
    ('credits_expiring', 7), ('payment_failed', 0), ('recharge_failed', 0)) AS d (kind, threshold);

-- Deliveries made once per key: an alert's mail (its job may run twice), a failure event's
-- alert (its handler may be retried).
CREATE TABLE alert_deliveries (
    key        text PRIMARY KEY,
    created_at timestamptz NOT NULL
);
