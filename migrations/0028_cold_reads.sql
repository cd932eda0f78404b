-- Issue 22: the ledger cache reads an account that is not cached (a fresh process over a
-- million accounts reads most of them so) in one statement, with its grants as JSON; their
-- times come as microseconds since the epoch, which Go decodes several times faster than an
-- ISO timestamp (the decoding took a third of the read's time in Go).
-- An infinite time (no column is written so by the app, but a hand-made fix could) becomes the
-- largest or smallest microsecond count instead of failing every read of its account (a
-- NULL stays NULL: STRICT).
CREATE OR REPLACE FUNCTION micros(t timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN isfinite(t) THEN (extract(epoch FROM t) * 1000000)::bigint
        WHEN t > 'epoch'::timestamptz THEN 9223372036854775807 ELSE -9223372036854775807 END $$;
