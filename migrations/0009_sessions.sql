-- Server-side sessions (the cookie carries only a random id; its sha256 is the key here),
-- pending sign-ups waiting for their email link, and the outbox of mail not sent through SMTP.
CREATE TABLE sessions (
    id_hash      bytea PRIMARY KEY,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    revoked_at   timestamptz,
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT ''
);
-- A password change revokes a user's live sessions.
CREATE INDEX sessions_user_live_idx ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE signup_requests (
    token_hash    bytea PRIMARY KEY,
    email         text NOT NULL CHECK (email = lower(email)),
    name          text NOT NULL,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz
);

CREATE TABLE outbox (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL,
    to_addr    text NOT NULL,
    subject    text NOT NULL,
    body       text NOT NULL,
    created_at timestamptz NOT NULL,
    sent_at    timestamptz
);
CREATE INDEX outbox_to_idx ON outbox (to_addr, id);
