-- Team accounts (issue 18): member ids and limits, invitations, attribution of usage and holds
-- to members, and the per-member spend counter of the debit path.

-- A membership gets its own id (the member in the API and in attribution), a monthly limit in
-- millicredits (NULL: none) and the member's spend this period. period_spent is kept only while
-- the member has a limit, under the account's lock (setting a limit recounts it from usage).
ALTER TABLE memberships
    ADD COLUMN id             text,
    ADD COLUMN monthly_limit  bigint CHECK (monthly_limit >= 0),
    ADD COLUMN period_start   timestamptz,
    ADD COLUMN period_spent   bigint NOT NULL DEFAULT 0 CHECK (period_spent >= 0),
    ADD COLUMN last_active_at timestamptz;
UPDATE memberships SET id = 'mem_' || substr(md5(account_id || ' ' || user_id || ' ' || random()::text), 1, 20);
ALTER TABLE memberships ALTER COLUMN id SET NOT NULL;
CREATE UNIQUE INDEX memberships_id_key ON memberships (id);

-- is_team marks accounts made with CreateTeam (personal accounts cannot be deleted);
-- closed_at, a deleted team: no memberships, keys revoked, its ledger kept.
-- member_limits says some member of the account has a monthly limit: debits attributed to a
-- member of such an account are decided under the account's lock. members_version counts
-- membership changes; both notify every instance (their member caches are dropped).
ALTER TABLE accounts
    ADD COLUMN member_limits   boolean NOT NULL DEFAULT false,
    ADD COLUMN members_version bigint NOT NULL DEFAULT 0,
    ADD COLUMN is_team         boolean NOT NULL DEFAULT false,
    ADD COLUMN closed_at       timestamptz;
CREATE TRIGGER accounts_members_changed
    AFTER UPDATE OF member_limits, members_version ON accounts
    FOR EACH ROW
    WHEN (OLD.member_limits IS DISTINCT FROM NEW.member_limits OR OLD.members_version IS DISTINCT FROM NEW.members_version)
    EXECUTE FUNCTION accounts_notify_change();

-- Invitations: the token is never stored, only its SHA-256 (hex). At most one pending
-- invitation per account and email.
CREATE TABLE invitations (
    id            text PRIMARY KEY,
    account_id    text NOT NULL REFERENCES accounts (id),
    email         text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    role          text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    monthly_limit bigint CHECK (monthly_limit >= 0),
    token_hash    text NOT NULL,
    expires_at    timestamptz NOT NULL,
    invited_by    text REFERENCES users (id), -- NULL: the operator (a platform key)
    created_at    timestamptz NOT NULL,
    accepted_at   timestamptz,
    revoked_at    timestamptz,
    CONSTRAINT invitations_closed_once CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);
CREATE UNIQUE INDEX invitations_token_hash_key ON invitations (token_hash);
CREATE UNIQUE INDEX invitations_pending_key ON invitations (account_id, email) WHERE accepted_at IS NULL AND revoked_at IS NULL;

-- Attribution: the membership that created an account key (NULL for operator keys), and the
-- member a usage event or hold is attributed to ('' for none: written as text arrays on the
-- debit path, and adding a column with a constant default rewrites nothing).
ALTER TABLE api_keys ADD COLUMN member_id text;
ALTER TABLE usage_events ADD COLUMN member_id text NOT NULL DEFAULT '';
ALTER TABLE holds ADD COLUMN member_id text NOT NULL DEFAULT '';
CREATE INDEX usage_account_member_idx ON usage_events (account_id, member_id, occurred_at DESC, id DESC) WHERE member_id <> '';

-- Alert rules on a member's spend (percent of their monthly limit).
ALTER TABLE alert_rules ADD COLUMN member_id text;
ALTER TABLE alert_rules DROP CONSTRAINT alert_rules_kind_check,
    ADD CONSTRAINT alert_rules_kind_check CHECK (kind IN ('balance_below', 'balance_below_percent', 'spend_percent',
        'credits_expiring', 'recharge_failed', 'payment_failed', 'member_spend_percent'));
ALTER TABLE alert_rules DROP CONSTRAINT alert_rules_threshold_check,
    ADD CONSTRAINT alert_rules_threshold_check CHECK (CASE kind
        WHEN 'balance_below' THEN threshold BETWEEN 0 AND 1000000000000000
        WHEN 'balance_below_percent' THEN threshold BETWEEN 1 AND 100
        WHEN 'spend_percent' THEN threshold BETWEEN 1 AND 1000
        WHEN 'member_spend_percent' THEN threshold BETWEEN 1 AND 1000
        WHEN 'credits_expiring' THEN threshold BETWEEN 1 AND 365
        ELSE threshold = 0 END),
    ADD CONSTRAINT alert_rules_member_check CHECK ((kind = 'member_spend_percent') = (member_id IS NOT NULL));
