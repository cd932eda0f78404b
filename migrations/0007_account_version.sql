-- Every change to an account row bumps its version. The debit path keeps recently used
-- accounts and their live grants in memory and writes a batch in one statement that applies
-- only if each account is still at the version it decided against (every grant change also
-- rewrites its account's balance, so the version covers the grants too).
ALTER TABLE accounts ADD COLUMN version bigint NOT NULL DEFAULT 0;

CREATE FUNCTION accounts_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END $$;
CREATE TRIGGER accounts_version BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION accounts_bump_version();

-- ledger_expect(n, want) stops a ledger write whose account updates did not all apply: one
-- of the accounts changed since the writer read it. serialization_failure means "retry".
CREATE FUNCTION ledger_expect(n bigint, want bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    IF n <> want THEN
        RAISE EXCEPTION 'ledger write: % of % accounts were at the expected version', n, want
            USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN n;
END $$;
