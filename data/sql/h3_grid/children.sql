-- After the grid changed: the adults of each resolution-8 cell's resolution-9 children, by
-- digit, in whole billionths of an adult (migration 0012: element d + 1 is the child whose
-- resolution-9 digit, index bits 18-20, is d, and 0 where there is none), computed again
-- from the cells and written where they changed. H3 index bits as in coverage/h3_cells.sql.
-- The write is an upsert on the key, not an INSERT of the rows NOT EXISTS finds: on a first
-- load the table is empty and its statistics say so, and the planner answered NOT EXISTS
-- with a nested loop over the rows the INSERT itself was adding (200,000 parents: 450 s).
CREATE TEMP TABLE coverage_grid_children ON COMMIT DROP AS
SELECT p.fid,
       array_agg(coalesce(c.adults_e9, 0) ORDER BY d.digit) AS adults_e9,
       array_agg(coalesce(c.deprived_adults_e9, 0) ORDER BY d.digit) AS deprived_adults_e9
FROM h3_coverage p
CROSS JOIN generate_series(0, 6) AS d (digit)
LEFT JOIN (
    SELECT ((fid & ~(15::bigint << 52)) | (8::bigint << 52)) | ((1::bigint << 21) - 1) AS parent,
           ((fid >> 18) & 7)::int AS digit,
           (adults * 1e9)::bigint AS adults_e9,
           (deprived_adults * 1e9)::bigint AS deprived_adults_e9
    FROM h3_coverage
    WHERE resolution = 9
) c ON c.parent = p.fid AND c.digit = d.digit
WHERE p.resolution = 8
GROUP BY p.fid;
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
