-- ledger_debit_idx cost an index insertion on every debit and served only `portal verify`,
-- which now sums allocations per debit in one pass (a hash join) instead of probing it.
DROP INDEX ledger_debit_idx;
