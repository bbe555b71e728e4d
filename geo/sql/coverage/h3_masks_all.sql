-- The covered and organised resolution-9 cells of all England, as the bits of their
-- resolution-8 parents (migration 0011: bit d is the child whose resolution-9 digit, index bits
-- 18-20, is d): covered, its centre lies in an active group's area (listed, latest activity on
-- or after :since); organised, in an active organiser's patch. Each area looks its cells up
-- through the index on the centres; a cell in several areas sets the same bit again. Computed
-- as CREATE TABLE AS, which may share the areas among parallel workers (an INSERT ... SELECT
-- never does in PostgreSQL 15), each worker merging bits per parent before the leader merges
-- theirs. coverage/h3_all.sql writes the parents from it.
CREATE TEMP TABLE coverage_parent_masks ON COMMIT DROP AS
SELECT ((x.cell & ~(15::bigint << 52)) | (8::bigint << 52)) | ((1::bigint << 21) - 1) AS fid,
       bit_or(x.covered)::smallint AS covered_children,
       bit_or(x.organised)::smallint AS organised_children
FROM (
    SELECT a.cell, 1 << ((a.cell >> 18) & 7)::int AS covered, 0 AS organised
    FROM community_group g
    JOIN h3_cell_adults a ON ST_Intersects(g.area, a.centre)
    WHERE g.listed AND g.last_activity_on >= %(since)s
    UNION ALL
    SELECT a.cell, 0 AS covered, 1 << ((a.cell >> 18) & 7)::int AS organised
    FROM organiser o
    JOIN h3_cell_adults a ON ST_Intersects(o.patch, a.centre)
    WHERE o.active
) x
GROUP BY 1
