-- Remove the previous synthetic organisers (after their groups: see synthetic/clear.sql) and
-- their public rows.
WITH gone AS (
    DELETE FROM organiser WHERE is_synthetic RETURNING id
), gone_serving AS (
    DELETE FROM organiser_serving WHERE fid IN (SELECT id FROM gone) OR is_synthetic
    RETURNING fid
)
SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM gone_serving);
