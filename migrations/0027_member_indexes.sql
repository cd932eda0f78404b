-- Review of issue 18: the indexes the per-member limit reads under the account's lock.

-- A member's spend counter counts charges when they were made (created_at), as the account's
-- spend counter and verify do; occurred_at may lie up to 30 days earlier. Recounting it (a
-- limit set, a moved spend period, the team page's spend this period) sums the member's usage
-- since the period start by created_at: usage_account_member_idx is on occurred_at, for the
-- usage history and chart, and cannot bound that sum.
CREATE INDEX IF NOT EXISTS usage_account_member_created_idx ON usage_events (account_id, member_id, created_at) INCLUDE (credits)
    WHERE member_id <> '';

-- A member's active holds count against their limit: summed with the counter on every
-- locked decision for the member (holds_account_idx holds every hold the account ever had).
CREATE INDEX IF NOT EXISTS holds_member_active_idx ON holds (account_id, member_id) INCLUDE (amount)
    WHERE status = 'active' AND member_id <> '';

-- Before UpdateMember revoked them, an owner's or admin's account keys outlived their
-- demotion to member and kept an admin's powers through the API. Revoke any such key now,
-- with an audit entry (the system's) for each.
WITH r AS (
    UPDATE api_keys k SET revoked_at = now()
    FROM memberships m
    WHERE k.member_id = m.id AND k.account_id = m.account_id AND m.role = 'member' AND k.revoked_at IS NULL
    RETURNING k.id, k.account_id, k.member_id
)
INSERT INTO audit_log (at, actor_kind, action, account_id, reason, before, after)
SELECT now(), 'system', 'api_key.revoke', r.account_id, 'key of a member demoted below admin',
    jsonb_build_object('id', r.id, 'member', r.member_id, 'revoked', false),
    jsonb_build_object('id', r.id, 'member', r.member_id, 'revoked', true)
FROM r;
