-- Cells no longer in the grid (their LSOAs' boundaries moved) leave the coverage layer: their
-- figures and their geometries.
WITH gone AS (
    DELETE FROM h3_coverage h
    WHERE NOT EXISTS (SELECT 1 FROM coverage_grid_stage s WHERE s.fid = h.fid)
    RETURNING h.fid
)
DELETE FROM h3_cell_geometry g
USING gone
WHERE g.fid = gone.fid;
