-- After a national recompute: the resolution 6-8 ancestors of the staged cells, as sums over
-- them (every other descendant covers nothing: it lies in no area). H3 index bits (H3
-- specification): resolution in bits 52-55, one 3-bit digit per finer resolution, unused
-- digits 7; a parent keeps the digits up to its resolution (coverage_h3_parents.sql).
WITH sums AS (
    SELECT ((s.cell & ~(15::bigint << 52)) | (r.resolution::bigint << 52))
               | ((1::bigint << (3 * (15 - r.resolution))) - 1) AS fid,
           sum(CASE WHEN s.covered THEN s.adults ELSE 0 END) AS adults_covered,
           sum(CASE WHEN s.covered THEN s.deprived_adults ELSE 0 END) AS deprived_adults_covered,
           sum(CASE WHEN s.organised THEN s.adults ELSE 0 END) AS adults_organiser_covered
    FROM coverage_cell_state s
    CROSS JOIN (VALUES (6), (7), (8)) AS r (resolution)
    GROUP BY 1
)
UPDATE h3_coverage h
SET adults_covered = s.adults_covered,
    covered_share = CASE WHEN h.adults > 0 THEN least(1.0, s.adults_covered / h.adults) ELSE 0 END,
    deprived_adults_covered = s.deprived_adults_covered,
    adults_organiser_covered = s.adults_organiser_covered
FROM sums s
WHERE h.fid = s.fid
  AND (h.adults_covered, h.deprived_adults_covered, h.adults_organiser_covered)
      IS DISTINCT FROM (s.adults_covered, s.deprived_adults_covered, s.adults_organiser_covered);
