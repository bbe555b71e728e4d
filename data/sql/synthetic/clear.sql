-- Remove a register's previous synthetic rows, and only them, with their rows in its public
-- layer (the register community_group or organiser, and its serving table). What hangs off a
-- group (activities, ratings, messages, managers, LSOA pieces) goes with it (ON DELETE
-- CASCADE). Groups first, since synthetic groups name the synthetic organisers that started them.
WITH gone AS (
    DELETE FROM {register} WHERE is_synthetic RETURNING id
), gone_serving AS (
    DELETE FROM {serving} WHERE fid IN (SELECT id FROM gone) OR is_synthetic
    RETURNING fid
)
SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM gone_serving);
