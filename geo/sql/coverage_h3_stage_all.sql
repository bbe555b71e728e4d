-- Every resolution-9 H3 cell whose coverage may be, or may have been, non-zero: those whose
-- centres lie in any group's area or organiser's patch, active or not (every write re-cuts
-- its area, so a cell covered before lies in one of them), and every cell counted covered or
-- organised now (a group or organiser deleted since, as the synthetic generator does, leaves
-- no area to find it by). Covered: in an active group's area
-- (listed, latest activity on or after :since); organised: in an active organiser's patch.
-- Each area looks its cells up through the index on the centres (OFFSET 0 keeps the planner
-- from probing the areas once per cell instead).
WITH group_cells AS (
    SELECT x.cell, bool_or(g.listed AND coalesce(g.last_activity_on >= %(since)s, false)) AS covered
    FROM community_group g
    CROSS JOIN LATERAL (
        SELECT a.cell FROM h3_cell_adults a WHERE ST_Intersects(g.area, a.centre) OFFSET 0
    ) x
    GROUP BY x.cell
),
organiser_cells AS (
    SELECT x.cell, bool_or(o.active) AS organised
    FROM organiser o
    CROSS JOIN LATERAL (
        SELECT a.cell FROM h3_cell_adults a WHERE ST_Intersects(o.patch, a.centre) OFFSET 0
    ) x
    GROUP BY x.cell
),
stale_cells AS (
    SELECT h.fid AS cell
    FROM h3_coverage h
    WHERE h.resolution = 9 AND (h.adults_covered > 0 OR h.adults_organiser_covered > 0)
)
INSERT INTO coverage_cell_state (cell, covered, organised)
SELECT coalesce(g.cell, o.cell, s.cell), coalesce(g.covered, false), coalesce(o.organised, false)
FROM group_cells g
FULL JOIN organiser_cells o ON o.cell = g.cell
FULL JOIN stale_cells s ON s.cell = coalesce(g.cell, o.cell)
ORDER BY 1;
