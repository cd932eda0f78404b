-- Abuse detection and review (issue 20). The detectors never read the debit path's tables
-- in bulk: a job folds new ledger entries (by id, behind a time horizon) into the rollups
-- below, and the detectors read these.

-- Review state of a flag. severity: 1 low, 2 medium, 3 high.
ALTER TABLE abuse_flags
    ADD COLUMN severity    smallint NOT NULL DEFAULT 2 CHECK (severity BETWEEN 1 AND 3),
    ADD COLUMN resolved_at timestamptz,
    ADD COLUMN resolved_by text NOT NULL DEFAULT '',
    ADD COLUMN resolution  text NOT NULL DEFAULT '' CHECK (resolution IN ('', 'dismiss', 'suspend', 'require_verification')),
    ADD COLUMN note        text NOT NULL DEFAULT '' CHECK (length(note) <= 2000);
CREATE INDEX abuse_flags_queue_idx ON abuse_flags (status, severity DESC, created_at);
CREATE INDEX abuse_flags_account_idx ON abuse_flags (account_id, kind) WHERE status = 'open';

-- Where the rollup job stopped: the last ledger entry id folded in.
CREATE TABLE abuse_cursor (
    name       text PRIMARY KEY,
    last_id    bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL
);

-- Usage per account and hour (by occurred_at), for the velocity baseline.
CREATE TABLE abuse_usage_hourly (
    account_id text NOT NULL,
    hour       timestamptz NOT NULL,
    events     bigint NOT NULL DEFAULT 0,
    credits    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, hour)
);
CREATE INDEX abuse_usage_hourly_hour_idx ON abuse_usage_hourly (hour);

-- Events per prompt hash, hour and account (repeated and shared prompts).
CREATE TABLE abuse_prompt_hourly (
    prompt_hash text NOT NULL CHECK (length(prompt_hash) <= 128),
    hour        timestamptz NOT NULL,
    account_id  text NOT NULL,
    events      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (prompt_hash, hour, account_id)
);
CREATE INDEX abuse_prompt_hourly_hour_idx ON abuse_prompt_hourly (hour);
CREATE INDEX abuse_prompt_hourly_account_idx ON abuse_prompt_hourly (account_id, hour);

-- Grants seen by the rollup (purchase, trial, allotment...), checked for draining.
CREATE TABLE abuse_fresh_grants (
    grant_id   text PRIMARY KEY,
    account_id text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX abuse_fresh_grants_time_idx ON abuse_fresh_grants (created_at);

-- The network a portal account signed up from: /24 for IPv4, /64 for IPv6.
CREATE TABLE signup_ips (
    account_id text PRIMARY KEY REFERENCES accounts (id),
    ip_prefix  text NOT NULL CHECK (length(ip_prefix) <= 64),
    created_at timestamptz NOT NULL
);
CREATE INDEX signup_ips_prefix_idx ON signup_ips (ip_prefix, created_at);
CREATE INDEX signup_ips_time_idx ON signup_ips (created_at);

-- API requests refused by the rate limit, per account and minute (flushed from memory).
CREATE TABLE abuse_rate_refusals (
    account_id text NOT NULL,
    minute     timestamptz NOT NULL,
    refusals   bigint NOT NULL DEFAULT 0 CHECK (refusals >= 0),
    PRIMARY KEY (account_id, minute)
);
CREATE INDEX abuse_rate_refusals_minute_idx ON abuse_rate_refusals (minute);
