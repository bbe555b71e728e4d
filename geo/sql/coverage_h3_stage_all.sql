-- Every resolution-9 H3 cell whose coverage may be, or may have been, non-zero: those whose
-- centres lie in any group's area or organiser's patch, active or not (found from the areas
-- through the index on the centres), and every cell counted as covered or organised now (a
-- group or organiser deleted since, as the synthetic generator does, leaves no area). Covered: in an active group's area (listed, latest activity on or
-- after :since); organised: in an active organiser's patch.
WITH group_cells AS (
    SELECT a.cell, bool_or(g.listed AND coalesce(g.last_activity_on >= %(since)s, false)) AS covered
    FROM community_group g
    JOIN h3_cell_adults a ON ST_Intersects(g.area, a.centre)
    GROUP BY a.cell
),
organiser_cells AS (
    SELECT a.cell, bool_or(o.active) AS organised
    FROM organiser o
    JOIN h3_cell_adults a ON ST_Intersects(o.patch, a.centre)
    GROUP BY a.cell
),
stale_cells AS (
    SELECT h.fid AS cell
    FROM h3_coverage h
    WHERE h.resolution = 9 AND (h.adults_covered > 0 OR h.adults_organiser_covered > 0)
),
candidates AS (
    SELECT coalesce(g.cell, o.cell, s.cell) AS cell,
           coalesce(g.covered, false) AS covered,
           coalesce(o.organised, false) AS organised
    FROM group_cells g
    FULL JOIN organiser_cells o ON o.cell = g.cell
    FULL JOIN stale_cells s ON s.cell = coalesce(g.cell, o.cell)
)
INSERT INTO coverage_cell_state (cell, adults, deprived_adults, covered, organised)
SELECT c.cell, h.adults, h.deprived_adults, c.covered, c.organised
FROM candidates c
JOIN h3_coverage h ON h.fid = c.cell;
