-- Remove the previous synthetic rows, and only them: their activities, ratings, messages,
-- managers and LSOA pieces go with them (ON DELETE CASCADE); the public layers lose their rows.
-- Organisers last, since synthetic groups name the synthetic organisers that started them.
WITH gone_groups AS (
    DELETE FROM community_group WHERE is_synthetic RETURNING id
), gone_group_serving AS (
    DELETE FROM group_serving WHERE fid IN (SELECT id FROM gone_groups) OR is_synthetic
    RETURNING fid
)
SELECT (SELECT count(*) FROM gone_groups), (SELECT count(*) FROM gone_group_serving);
