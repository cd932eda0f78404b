-- Mail delivery through SMTP: each outbox message records whether it is kept (no SMTP),
-- queued for SMTP, sent or failed, with its attempts and the last error.
ALTER TABLE outbox
    ADD COLUMN status     text NOT NULL DEFAULT 'kept' CHECK (status IN ('kept', 'queued', 'sent', 'failed')),
    ADD COLUMN attempts   integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    ADD COLUMN last_error text NOT NULL DEFAULT '',
    ADD CONSTRAINT outbox_sent_at_iff_sent CHECK ((status = 'sent') = (sent_at IS NOT NULL));
