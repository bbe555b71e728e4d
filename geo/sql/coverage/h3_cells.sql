-- Recompute the resolution-9 H3 cells whose ids are :cells (those whose centres lay in a
-- changed area before or after the change) and write them into their resolution-8 parents: a
-- cell is covered when its centre lies in an active group's area (listed, activity on or after
-- :since), and organised when it lies in an active organiser's patch. A resolution-9 cell's
-- coverage is one bit of its parent (migration 0011: bit d of covered_children and
-- organised_children is the child whose resolution-9 digit, index bits 18-20, is d). The bits
-- of these cells are set anew and each parent's sums recomputed from its children whose bits
-- are set (parent_sums below: coverage/h3_parent_sums.sql, inserted, as in
-- coverage/h3_all.sql). Returns the parents that changed (their own parents follow:
-- coverage/h3_parents.sql). The write is coverage/h3_parents_update.sql.
WITH computed AS (
    SELECT a.cell,
           EXISTS (
               SELECT 1 FROM community_group g
               WHERE g.listed AND g.last_activity_on >= %(since)s
                 AND ST_Intersects(g.area, a.centre)
           ) AS covered,
           EXISTS (
               SELECT 1 FROM organiser o WHERE o.active AND ST_Intersects(o.patch, a.centre)
           ) AS organised
    FROM h3_cell_adults a
    WHERE a.cell = ANY(%(cells)s::bigint[])
),
bits AS (
    SELECT ((c.cell & ~(15::bigint << 52)) | (8::bigint << 52)) | ((1::bigint << 21) - 1) AS fid,
           bit_or(1 << ((c.cell >> 18) & 7)::int)::smallint AS recomputed,
           bit_or(CASE WHEN c.covered THEN 1 << ((c.cell >> 18) & 7)::int ELSE 0 END)::smallint
               AS covered,
           bit_or(CASE WHEN c.organised THEN 1 << ((c.cell >> 18) & 7)::int ELSE 0 END)::smallint
               AS organised
    FROM computed c
    GROUP BY 1
),
masks AS (
    SELECT p.fid,
           (p.covered_children & ~b.recomputed) | b.covered AS covered_children,
           (p.organised_children & ~b.recomputed) | b.organised AS organised_children
    FROM bits b
    JOIN h3_coverage p ON p.fid = b.fid
),
parent_sums AS ({r8_sums})
{write}
RETURNING h.fid;
