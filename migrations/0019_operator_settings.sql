-- Operator settings the console edits at run time (the pricing target margin, abuse
-- thresholds, ...): one JSON value per key, read by every instance. Each change is audited.
CREATE TABLE operator_settings (
    key        text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_.]{0,62}$'),
    value      jsonb NOT NULL CHECK (octet_length(value::text) <= 65536),
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL
);
