-- The children's adults staged (children_stage.sql) written where they changed.
-- The write is an upsert on the key, not an INSERT of the rows NOT EXISTS finds: on a first
-- load the table is empty and its statistics say so, and the planner answered NOT EXISTS
-- with a nested loop over the rows the INSERT itself was adding (200,000 parents: 450 s).
ANALYZE coverage_grid_children;
DELETE FROM h3_children_adults h
WHERE NOT EXISTS (SELECT 1 FROM coverage_grid_children n WHERE n.fid = h.fid);
INSERT INTO h3_children_adults AS h (fid, adults_e9, deprived_adults_e9)
SELECT n.fid, n.adults_e9, n.deprived_adults_e9
FROM coverage_grid_children n
ON CONFLICT (fid) DO UPDATE
SET adults_e9 = excluded.adults_e9, deprived_adults_e9 = excluded.deprived_adults_e9
WHERE (h.adults_e9, h.deprived_adults_e9)
      IS DISTINCT FROM (excluded.adults_e9, excluded.deprived_adults_e9);
DROP TABLE coverage_grid_children;
