-- After a national recompute: add what changed in the resolution-9 cells to their resolution
-- 6-8 ancestors (sums move by the changes of their descendants; less than a millionth of an
-- adult left by rounding is nothing). The changes are summed resolution by resolution (9 into
-- 8, 8 into 7, 7 into 6), each level from the one below: a third of the rows a sum of every
-- cell into each ancestor reads. The three levels are written out: PostgreSQL refuses
-- aggregates in the recursive part of a recursive CTE. H3 index bits (H3 specification): resolution in bits
-- 52-55, one 3-bit digit per finer resolution, unused digits 7; a parent keeps the digits up
-- to its resolution and sets the rest to 7 (3 * (15 - resolution) one bits, as in
-- coverage_h3_parents.sql).
WITH r8 AS (
    SELECT ((d.cell & ~(15::bigint << 52)) | (8::bigint << 52)) | ((1::bigint << 21) - 1) AS fid,
           sum(d.adults_covered) AS adults_covered,
           sum(d.deprived_adults_covered) AS deprived_adults_covered,
           sum(d.adults_organiser_covered) AS adults_organiser_covered
    FROM coverage_cell_delta d
    GROUP BY 1
),
r7 AS (
    SELECT ((d.fid & ~(15::bigint << 52)) | (7::bigint << 52)) | ((1::bigint << 24) - 1) AS fid,
           sum(d.adults_covered) AS adults_covered,
           sum(d.deprived_adults_covered) AS deprived_adults_covered,
           sum(d.adults_organiser_covered) AS adults_organiser_covered
    FROM r8 d
    GROUP BY 1
),
r6 AS (
    SELECT ((d.fid & ~(15::bigint << 52)) | (6::bigint << 52)) | ((1::bigint << 27) - 1) AS fid,
           sum(d.adults_covered) AS adults_covered,
           sum(d.deprived_adults_covered) AS deprived_adults_covered,
           sum(d.adults_organiser_covered) AS adults_organiser_covered
    FROM r7 d
    GROUP BY 1
),
sums AS (
    SELECT * FROM r8 UNION ALL SELECT * FROM r7 UNION ALL SELECT * FROM r6
),
parent_sums AS (
    SELECT h.fid,
           CASE WHEN h.adults_covered + s.adults_covered < 1e-6 THEN 0
                ELSE h.adults_covered + s.adults_covered END AS adults_covered,
           CASE WHEN h.deprived_adults_covered + s.deprived_adults_covered < 1e-6 THEN 0
                ELSE h.deprived_adults_covered + s.deprived_adults_covered END
               AS deprived_adults_covered,
           CASE WHEN h.adults_organiser_covered + s.adults_organiser_covered < 1e-6 THEN 0
                ELSE h.adults_organiser_covered + s.adults_organiser_covered END
               AS adults_organiser_covered
    FROM sums s
    JOIN h3_coverage h ON h.fid = s.fid
)
{write};
