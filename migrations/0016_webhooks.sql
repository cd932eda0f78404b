-- Customer webhooks: an account's endpoints, one delivery per event and endpoint, and every
-- attempt of each delivery (what the customer's delivery log shows).
CREATE TABLE webhook_endpoints (
    id          text PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts(id),
    url         text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    -- Empty: every event type.
    events      text[] NOT NULL DEFAULT '{}' CHECK (cardinality(events) <= 16),
    -- Kept as shown to the customer (its bytes key the signature).
    secret      text NOT NULL CHECK (length(secret) BETWEEN 16 AND 128),
    created_at  timestamptz NOT NULL,
    disabled_at timestamptz
);
CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id) WHERE disabled_at IS NULL;

CREATE TABLE webhook_deliveries (
    id              text PRIMARY KEY,
    endpoint_id     text NOT NULL REFERENCES webhook_endpoints(id),
    account_id      text NOT NULL REFERENCES accounts(id),
    event_id        text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 64),
    type            text NOT NULL CHECK (length(type) BETWEEN 1 AND 64),
    -- The exact body sent (every retry sends the same bytes).
    payload         text NOT NULL CHECK (octet_length(payload) <= 65536),
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 1000),
    next_attempt_at timestamptz,
    created_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    CONSTRAINT webhook_deliveries_next_iff_pending CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL)),
    CONSTRAINT webhook_deliveries_finished_iff_done CHECK ((status = 'pending') = (finished_at IS NULL))
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);

CREATE TABLE webhook_attempts (
    delivery_id      text NOT NULL REFERENCES webhook_deliveries(id),
    n                integer NOT NULL CHECK (n >= 1),
    at               timestamptz NOT NULL,
    -- 0: no HTTP answer (refused, timed out, connection failed).
    http_status      integer NOT NULL CHECK (http_status = 0 OR http_status BETWEEN 100 AND 599),
    duration_ms      integer NOT NULL CHECK (duration_ms >= 0),
    response_excerpt text NOT NULL DEFAULT '' CHECK (octet_length(response_excerpt) <= 1024),
    error            text NOT NULL DEFAULT '' CHECK (octet_length(error) <= 1024),
    PRIMARY KEY (delivery_id, n)
);
