-- Price book versions, plans and packs.

-- One row per price book version; document is billing.BookData. The columns
-- beside it repeat what queries and constraints need.
CREATE TABLE price_books (
    version      integer PRIMARY KEY CHECK (version >= 1),
    status       text NOT NULL CHECK (status IN ('draft', 'published')),
    effective_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL DEFAULT '',
    published_at timestamptz,
    published_by text NOT NULL DEFAULT '',
    note         text NOT NULL DEFAULT '',
    document     jsonb NOT NULL,
    CONSTRAINT price_books_published_times CHECK (
        (status = 'published') = (effective_at IS NOT NULL AND published_at IS NOT NULL)),
    CONSTRAINT price_books_document_matches CHECK (
        (document ->> 'version')::integer = version AND document ->> 'status' = status)
);

-- At most one draft at a time.
CREATE UNIQUE INDEX price_books_one_draft ON price_books (status) WHERE status = 'draft';

-- A published version never changes: every usage event names the version that priced it.
CREATE FUNCTION price_books_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF EXISTS (SELECT 1 FROM price_books WHERE status = 'published') THEN
            RAISE EXCEPTION 'published price books cannot be truncated' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'price book version % is published and cannot change', OLD.version
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER price_books_published_frozen
    BEFORE UPDATE OR DELETE ON price_books
    FOR EACH ROW WHEN (OLD.status = 'published')
    EXECUTE FUNCTION price_books_refuse_change();

CREATE TRIGGER price_books_no_truncate
    BEFORE TRUNCATE ON price_books
    FOR EACH STATEMENT
    EXECUTE FUNCTION price_books_refuse_change();

-- Plans (subscriptions). Prices are {"usd": cents, ...}; credits are millicredits.
CREATE TABLE plans (
    key                  text PRIMARY KEY,
    name                 text NOT NULL,
    price_monthly        jsonb NOT NULL,
    price_yearly         jsonb,
    credits_per_period   bigint NOT NULL DEFAULT 0 CHECK (credits_per_period >= 0),
    rollover_policy      text NOT NULL DEFAULT 'none' CHECK (rollover_policy IN ('none', 'capped', 'full')),
    rollover_cap         bigint NOT NULL DEFAULT 0 CHECK (rollover_cap >= 0),
    rollover_max_periods integer NOT NULL DEFAULT 0 CHECK (rollover_max_periods >= 0),
    multiplier           numeric(8, 4) NOT NULL DEFAULT 1 CHECK (multiplier > 0),
    entitlements         jsonb NOT NULL,
    active               boolean NOT NULL DEFAULT true,
    sort_order           integer NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- Every account starts on the Free plan (billing.SeedPlans()[0], same figures), so
-- it exists in every database and accounts.plan_key can reference plans.
INSERT INTO plans (key, name, price_monthly, multiplier, entitlements, sort_order)
VALUES ('free', 'Free', '{"usd": 0}', 1,
    '{"premium_models": false, "batch": false, "api_access": false, "priority": "standard", "commercial_use": false,
      "rate_limit_per_min": 60, "max_active_holds": 2, "team_seats": 1}', 10);

ALTER TABLE accounts ADD CONSTRAINT accounts_plan_key_fkey FOREIGN KEY (plan_key) REFERENCES plans (key);

-- Credit packs. expiry_months NULL means the credits never expire.
CREATE TABLE packs (
    key           text PRIMARY KEY,
    name          text NOT NULL,
    credits       bigint NOT NULL CHECK (credits > 0),
    bonus_credits bigint NOT NULL DEFAULT 0 CHECK (bonus_credits >= 0),
    prices        jsonb NOT NULL,
    expiry_months integer CHECK (expiry_months BETWEEN 1 AND 120),
    active        boolean NOT NULL DEFAULT true,
    sort_order    integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
