-- Recompute the resolution 6 and 7 ancestors of the resolution-8 cells {cells} names (the
-- parents one write changed, coverage/h3_cells.sql) as sums of all their resolution-8
-- descendants. H3 index bits (H3 specification): resolution in bits 52-55, then one 3-bit
-- digit per resolution 1-15, unused digits 7. A parent at resolution r keeps the digits up to
-- r; its resolution-8 descendants are the contiguous id range with the parent's digits, any
-- digits r+1..8 and digits 9-15 set to 7 (read through the unique index on fid). Summed in
-- billionths of an adult, as coverage/h3_all.sql does, so both store the same values.
WITH changed AS ({cells}),
parents AS (
    SELECT DISTINCT r.resolution,
           ((c.cell & ~(15::bigint << 52)) | (r.resolution::bigint << 52))
               | ((1::bigint << (3 * (15 - r.resolution))) - 1) AS fid
    FROM changed c
    CROSS JOIN (VALUES (6), (7)) AS r (resolution)
),
parent_sums AS (
    -- One index range scan per parent (LATERAL): a join on the ranges would be planned as a
    -- scan of the whole table, the planner knowing nothing of how narrow each range is.
    SELECT p.fid, 0::smallint AS covered_children, 0::smallint AS organised_children,
           x.adults_covered, x.deprived_adults_covered, x.adults_organiser_covered
    FROM parents p
    CROSS JOIN LATERAL (
        SELECT (coalesce(sum((h.adults_covered * 1e9)::bigint), 0) / 1e9)::float8
                   AS adults_covered,
               (coalesce(sum((h.deprived_adults_covered * 1e9)::bigint), 0) / 1e9)::float8
                   AS deprived_adults_covered,
               (coalesce(sum((h.adults_organiser_covered * 1e9)::bigint), 0) / 1e9)::float8
                   AS adults_organiser_covered
        FROM h3_coverage h
        WHERE h.fid BETWEEN (((p.fid & ~(15::bigint << 52)) | (8::bigint << 52))
                             & ~((1::bigint << (3 * (15 - p.resolution))) - 1))
                            | ((1::bigint << 21) - 1)
                        AND ((p.fid & ~(15::bigint << 52)) | (8::bigint << 52))
    ) x
)
{write};
