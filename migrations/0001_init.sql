-- Users, accounts and memberships.
CREATE TABLE users (
    id            text PRIMARY KEY,
    email         text NOT NULL,
    name          text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    is_admin      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_lower CHECK (email = lower(email))
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE accounts (
    id              text PRIMARY KEY,
    name            text NOT NULL,
    external_id     text,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'suspended')),
    status_reason   text NOT NULL DEFAULT '',
    plan_key        text NOT NULL DEFAULT 'free',
    overdraft_limit bigint NOT NULL DEFAULT 0 CHECK (overdraft_limit >= 0),
    balance         bigint NOT NULL DEFAULT 0,
    reserved        bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_external_id_key ON accounts (external_id) WHERE external_id IS NOT NULL;

CREATE TABLE memberships (
    account_id text NOT NULL REFERENCES accounts (id),
    user_id    text NOT NULL REFERENCES users (id),
    role       text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);
