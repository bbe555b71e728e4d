-- After the grid changed: the adults of each resolution-8 cell's resolution-9 children, by
-- digit, in whole billionths of an adult (migration 0012: element d + 1 is the child whose
-- resolution-9 digit, index bits 18-20, is d; 0 where there is none), computed again from
-- the cells and written where they changed. H3 index bits as in coverage_h3_cells.sql.
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
DELETE FROM h3_children_adults h
WHERE NOT EXISTS (SELECT 1 FROM coverage_grid_children n WHERE n.fid = h.fid);
UPDATE h3_children_adults h
SET adults_e9 = n.adults_e9, deprived_adults_e9 = n.deprived_adults_e9
FROM coverage_grid_children n
WHERE n.fid = h.fid
  AND (h.adults_e9, h.deprived_adults_e9) IS DISTINCT FROM (n.adults_e9, n.deprived_adults_e9);
INSERT INTO h3_children_adults (fid, adults_e9, deprived_adults_e9)
SELECT n.fid, n.adults_e9, n.deprived_adults_e9
FROM coverage_grid_children n
WHERE NOT EXISTS (SELECT 1 FROM h3_children_adults h WHERE h.fid = n.fid);
DROP TABLE coverage_grid_children;
