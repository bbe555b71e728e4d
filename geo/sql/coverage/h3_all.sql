-- After a national recompute: every resolution 6-8 cell from the bits of
-- coverage/h3_masks_all.sql, computed whole (not by differences): a resolution-8 cell takes
-- its bits and the sums of its resolution-9 children whose bits are set (r8 below:
-- coverage/h3_parent_sums.sql, inserted); resolution-7 and 6 cells sum their resolution-8
-- descendants, in whole billionths of an adult as coverage/h3_parents.sql does, so an
-- incremental recompute stores the same values to the last bit. Cells with nothing covered
-- now but something stored are reset. H3 index bits as in coverage/h3_cells.sql; a parent at
-- resolution r keeps the digits up to r and sets the rest to 7 (3 * (15 - r) one bits). The
-- write is coverage/h3_parents_update.sql.
WITH r8 AS ({r8_sums}),
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
           CASE WHEN s.fid IS NULL THEN 0::smallint ELSE s.covered_children END
               AS covered_children,
           CASE WHEN s.fid IS NULL THEN 0::smallint ELSE s.organised_children END
               AS organised_children,
           CASE WHEN s.fid IS NULL THEN 0 ELSE s.adults_covered END AS adults_covered,
           CASE WHEN s.fid IS NULL THEN 0 ELSE s.deprived_adults_covered END
               AS deprived_adults_covered,
           CASE WHEN s.fid IS NULL THEN 0 ELSE s.adults_organiser_covered END
               AS adults_organiser_covered
    FROM h3_coverage h
    LEFT JOIN sums s ON s.fid = h.fid
    WHERE h.resolution < 9
      AND (s.fid IS NOT NULL OR h.covered_children <> 0 OR h.organised_children <> 0
           OR h.adults_covered <> 0 OR h.deprived_adults_covered <> 0
           OR h.adults_organiser_covered <> 0)
)
{write};
