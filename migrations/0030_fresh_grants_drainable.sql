-- Issue 22: the abuse fold kept every grant of the last day as "fresh", although the
-- drained-grant detector only looks at paid, trial, subscription and auto-recharge grants.
-- After a million promotional grants the detector probed each of them every minute (4-6 s of
-- a core over 1,000,000 accounts). The fold now keeps only those sources; drop the others.
DELETE FROM abuse_fresh_grants f USING grants g
WHERE g.id = f.grant_id AND g.source NOT IN ('purchase', 'trial', 'subscription', 'auto_recharge');
