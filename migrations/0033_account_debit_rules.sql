-- Issue 22: a debit on an account the server has not cached reads the account, its live grants
-- and its enabled debit-path alert rules (store.LedgerAccounts). Over 1,000,000 accounts the
-- rules were the dearest part of that read: about three blocks and 0.18 ms an account, in an
-- index of 900 MB (2.3 GB with its table: six rules an account). What the debit path needs of
-- them is a few bytes: each rule's kind, threshold and whether it is firing (a rule that fires
-- or resolves is read whole, under the account's lock). Each account now carries that on its
-- row, in debit_rules: one item per enabled rule of the kinds billing.CachedAlertKinds lists,
-- a letter for the kind, the threshold, '!' when firing, sorted and comma-separated:
-- 'p20,s100,s80' is the default rules (balance below 20% of the last top-up, spend at 80% and
-- 100% of the limit), none firing. store.ruleCopyCodes is the other half of this table.
--
-- Triggers keep the copy: after any statement that inserts, updates or deletes rules, the
-- accounts it touched get theirs anew, where it changed (so a channel, or a rule of another
-- kind, leaves the row alone). Rewriting the row bumps its version, as every rule change did
-- already (TouchAccount); so does a debit-path rule firing or resolving, which the ledger cache
-- counts (book.writeAlerts). `portal verify` checks every copy against the rules.
ALTER TABLE accounts ADD COLUMN debit_rules text NOT NULL DEFAULT '';

CREATE FUNCTION account_debit_rules(acc text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT COALESCE(string_agg(x, ',' ORDER BY x COLLATE "C"), '')
    FROM (SELECT CASE r.kind WHEN 'balance_below' THEN 'b' WHEN 'balance_below_percent' THEN 'p' ELSE 's' END
            || r.threshold || CASE WHEN r.firing THEN '!' ELSE '' END AS x
        FROM alert_rules r
        WHERE r.account_id = acc AND r.enabled AND r.kind IN ('balance_below', 'balance_below_percent', 'spend_percent')) s
$$;

CREATE FUNCTION alert_rules_to_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts a SET debit_rules = x.rules
    FROM (SELECT c.account_id, account_debit_rules(c.account_id) AS rules
          FROM (SELECT DISTINCT account_id FROM changed) c ORDER BY c.account_id) x
    WHERE a.id = x.account_id AND a.debit_rules <> x.rules;
    RETURN NULL;
END $$;

CREATE TRIGGER alert_rules_ins_accounts AFTER INSERT ON alert_rules REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION alert_rules_to_accounts();
CREATE TRIGGER alert_rules_upd_accounts AFTER UPDATE ON alert_rules REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION alert_rules_to_accounts();
CREATE TRIGGER alert_rules_del_accounts AFTER DELETE ON alert_rules REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION alert_rules_to_accounts();

-- Existing accounts: those with a rule of these kinds differ from the default ''.
UPDATE accounts a SET debit_rules = account_debit_rules(a.id)
WHERE EXISTS (SELECT 1 FROM alert_rules r WHERE r.account_id = a.id AND r.enabled
    AND r.kind IN ('balance_below', 'balance_below_percent', 'spend_percent'));

-- The rules' columns in the account index served only the cold read (migration 0031): back to
-- the plain key.
CREATE INDEX alert_rules_account_plain_idx ON alert_rules (account_id, created_at, id);
DROP INDEX alert_rules_account_idx;
ALTER INDEX alert_rules_account_plain_idx RENAME TO alert_rules_account_idx;
