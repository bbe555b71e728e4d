-- Every resolution 6-8 cell recomputed as the sum of its resolution-9 descendants, read once
-- (only covered or organised ones add anything). Run after the grid itself changed, when
-- updating by differences is not enough. H3 index bits as in coverage_h3_parents.sql.
WITH sums AS (
    SELECT ((h.fid & ~(15::bigint << 52)) | (r.resolution::bigint << 52))
               | ((1::bigint << (3 * (15 - r.resolution))) - 1) AS fid,
           sum(h.adults_covered) AS adults_covered,
           sum(h.deprived_adults_covered) AS deprived_adults_covered,
           sum(h.adults_organiser_covered) AS adults_organiser_covered
    FROM h3_coverage h
    CROSS JOIN (VALUES (6), (7), (8)) AS r (resolution)
    WHERE h.resolution = 9 AND (h.adults_covered > 0 OR h.adults_organiser_covered > 0)
    GROUP BY 1
),
parent_sums AS (
    SELECT p.fid, coalesce(s.adults_covered, 0) AS adults_covered,
           coalesce(s.deprived_adults_covered, 0) AS deprived_adults_covered,
           coalesce(s.adults_organiser_covered, 0) AS adults_organiser_covered
    FROM h3_coverage p
    LEFT JOIN sums s ON s.fid = p.fid
    WHERE p.resolution < 9
)
{write};
