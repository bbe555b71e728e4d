-- The resolution-9 H3 cells whose coverage may change: those whose centres lie in an active
-- group's area (listed, latest activity on or after :since) or an active organiser's patch,
-- and every cell counted covered or organised now (it may have to be reset: its group lapsed,
-- moved or was deleted). Covered: in an active group's area; organised: in an active
-- organiser's patch. Each area looks its cells up through the index on the centres (OFFSET 0
-- keeps the planner from probing the areas once per cell instead).
WITH group_cells AS (
    SELECT DISTINCT x.cell
    FROM community_group g
    CROSS JOIN LATERAL (
        SELECT a.cell FROM h3_cell_adults a WHERE ST_Intersects(g.area, a.centre) OFFSET 0
    ) x
    WHERE g.listed AND g.last_activity_on >= %(since)s
),
organiser_cells AS (
    SELECT DISTINCT x.cell
    FROM organiser o
    CROSS JOIN LATERAL (
        SELECT a.cell FROM h3_cell_adults a WHERE ST_Intersects(o.patch, a.centre) OFFSET 0
    ) x
    WHERE o.active
),
stale_cells AS (
    SELECT h.fid AS cell
    FROM h3_coverage h
    WHERE h.resolution = 9 AND (h.adults_covered > 0 OR h.adults_organiser_covered > 0)
)
INSERT INTO coverage_cell_state (cell, covered, organised)
SELECT coalesce(g.cell, o.cell, s.cell), g.cell IS NOT NULL, o.cell IS NOT NULL
FROM group_cells g
FULL JOIN organiser_cells o ON o.cell = g.cell
FULL JOIN stale_cells s ON s.cell = coalesce(g.cell, o.cell)
ORDER BY 1;
