-- Recompute the resolution-9 H3 cells whose ids are :cells (those whose centres lay in a
-- changed area before or after the change): a cell is covered when its centre lies in an
-- active group's area (listed, activity on or after :since), and organised when it lies in
-- an active organiser's patch. Returns the cells that changed (their parents follow).
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
)
{update}
RETURNING h.fid;
