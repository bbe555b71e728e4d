-- After a national recompute: every resolution 6-8 cell from the bits of
-- coverage_h3_masks_all.sql, computed whole (not by differences): a resolution-8 cell takes its
-- bits and the sums of its resolution-9 children whose bits are set (a hash join of the
-- parents to all resolution-9 rows); resolution-7 and 6 cells sum their resolution-8
-- descendants. Sums are counted in whole billionths of an adult (bigint: exact, so they do not
-- depend on the order rows are added in, and fast) and stored as float8, so an incremental
-- recompute (coverage_h3_cells.sql, coverage_h3_parents.sql) stores the same values to the
-- last bit. The levels are written
-- out: PostgreSQL refuses aggregates in the recursive part of a recursive CTE. Cells with
-- nothing covered now but something stored are reset. H3 index bits as in
-- coverage_h3_cells.sql; a parent at resolution r keeps the digits up to r and sets the rest
-- to 7 (3 * (15 - r) one bits). The write is coverage_h3_parents_update.sql.
WITH children AS (
    SELECT m.fid, m.covered_children, m.organised_children,
           (h.adults * 1e9)::bigint AS adults_e9,
           (h.deprived_adults * 1e9)::bigint AS deprived_adults_e9,
           (m.covered_children >> ((h.fid >> 18) & 7)::int) & 1 = 1 AS covered,
           (m.organised_children >> ((h.fid >> 18) & 7)::int) & 1 = 1 AS organised
    FROM coverage_parent_masks m
    JOIN h3_coverage h
      ON h.resolution = 9
     AND ((h.fid & ~(15::bigint << 52)) | (8::bigint << 52)) | ((1::bigint << 21) - 1) = m.fid
),
r8 AS (
    SELECT fid, covered_children, organised_children,
           (coalesce(sum(adults_e9) FILTER (WHERE covered), 0) / 1e9)::float8 AS adults_covered,
           (coalesce(sum(deprived_adults_e9) FILTER (WHERE covered), 0) / 1e9)::float8
               AS deprived_adults_covered,
           (coalesce(sum(adults_e9) FILTER (WHERE organised), 0) / 1e9)::float8
               AS adults_organiser_covered
    FROM children
    GROUP BY fid, covered_children, organised_children
),
coarser AS (
    SELECT ((d.fid & ~(15::bigint << 52)) | (r.resolution::bigint << 52))
               | ((1::bigint << (3 * (15 - r.resolution))) - 1) AS fid,
           0::smallint AS covered_children, 0::smallint AS organised_children,
           (sum((d.adults_covered * 1e9)::bigint) / 1e9)::float8 AS adults_covered,
           (sum((d.deprived_adults_covered * 1e9)::bigint) / 1e9)::float8
               AS deprived_adults_covered,
           (sum((d.adults_organiser_covered * 1e9)::bigint) / 1e9)::float8
               AS adults_organiser_covered
    FROM r8 d
    CROSS JOIN (VALUES (6), (7)) AS r (resolution)
    GROUP BY 1
),
sums AS (
    SELECT * FROM r8 UNION ALL SELECT * FROM coarser
),
parent_sums AS (
    SELECT h.fid,
           coalesce(s.covered_children, 0::smallint) AS covered_children,
           coalesce(s.organised_children, 0::smallint) AS organised_children,
           coalesce(s.adults_covered, 0) AS adults_covered,
           coalesce(s.deprived_adults_covered, 0) AS deprived_adults_covered,
           coalesce(s.adults_organiser_covered, 0) AS adults_organiser_covered
    FROM h3_coverage h
    LEFT JOIN sums s ON s.fid = h.fid
    WHERE h.resolution < 9
      AND (s.fid IS NOT NULL OR h.covered_children <> 0 OR h.organised_children <> 0
           OR h.adults_covered <> 0 OR h.deprived_adults_covered <> 0
           OR h.adults_organiser_covered <> 0)
)
{write};
