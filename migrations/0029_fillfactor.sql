-- Issue 22: every debit rewrites its account's row and the grant it draws from. A page filled
-- to the brim (a bulk load, or accounts created one after another) has no room for the new
-- version, so the first update of each row after it was written moved it to another page and
-- added an entry to every index of the table (six on accounts) instead of a heap-only (HOT)
-- update in place. Room is left in pages written from now on; existing pages gain it as
-- VACUUM prunes them.
ALTER TABLE accounts SET (fillfactor = 70);
ALTER TABLE grants SET (fillfactor = 70);
ALTER TABLE usage_daily SET (fillfactor = 70);
