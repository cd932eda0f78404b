-- Several drafts at once, each with an id of its own; a draft takes its version number
-- only when it is published, so two drafts never compete for one. price_books keeps the
-- published versions alone, which never change.
CREATE TABLE price_book_drafts (
    id           bigserial PRIMARY KEY,
    base_version integer NOT NULL DEFAULT 0 CHECK (base_version >= 0),
    name         text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL,
    document     jsonb NOT NULL CHECK (document ->> 'status' = 'draft')
);

INSERT INTO price_book_drafts (base_version, name, created_at, created_by, updated_at, document)
SELECT version - 1, note, created_at, created_by, created_at, document FROM price_books WHERE status = 'draft';
DELETE FROM price_books WHERE status = 'draft';
DROP INDEX price_books_one_draft;
ALTER TABLE price_books ADD CONSTRAINT price_books_published_only CHECK (status = 'published');

-- Cancelling a scheduled version adds a row here and leaves the version itself untouched.
-- Only a version ten minutes or more from taking effect (usage may be dated five minutes
-- ahead, and every instance must hear first) that has priced nothing may be cancelled;
-- a cancellation is itself final.
CREATE TABLE price_book_cancellations (
    version      integer PRIMARY KEY REFERENCES price_books (version),
    cancelled_at timestamptz NOT NULL,
    cancelled_by text NOT NULL,
    reason       text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500)
);

CREATE FUNCTION price_book_cancellation_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'a price book cancellation is final' USING ERRCODE = 'restrict_violation';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM price_books WHERE version = NEW.version
                   AND effective_at > now() + interval '10 minutes') THEN
        RAISE EXCEPTION 'price book version % is in effect or about to be; it cannot be cancelled', NEW.version
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM usage_events WHERE price_version = NEW.version) THEN
        RAISE EXCEPTION 'price book version % has priced usage; it cannot be cancelled', NEW.version
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER price_book_cancellations_check
    BEFORE INSERT OR UPDATE OR DELETE ON price_book_cancellations
    FOR EACH ROW EXECUTE FUNCTION price_book_cancellation_check();

-- Every instance drops a cancelled version from its live book when it hears of it.
CREATE TRIGGER price_book_cancelled AFTER INSERT ON price_book_cancellations
    FOR EACH ROW EXECUTE FUNCTION catalog_notify_change('creditline_price_books');
