-- Review of issue 18: the indexes the per-member limit reads under the account's lock.

-- A member's spend counter counts charges when they were made (created_at), as the account's
-- spend counter and verify do; occurred_at may lie up to 30 days earlier. Recounting it (a
-- limit set, a moved spend period, the team page's spend this period) sums the member's usage
-- since the period start by created_at: usage_account_member_idx is on occurred_at, for the
-- usage history and chart, and cannot bound that sum.
CREATE INDEX usage_account_member_created_idx ON usage_events (account_id, member_id, created_at) INCLUDE (credits)
    WHERE member_id <> '';

-- A member's active holds count against their limit: summed with the counter on every
-- locked decision for the member (holds_account_idx holds every hold the account ever had).
CREATE INDEX holds_member_active_idx ON holds (account_id, member_id) INCLUDE (amount)
    WHERE status = 'active' AND member_id <> '';
