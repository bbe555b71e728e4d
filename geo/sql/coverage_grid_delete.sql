-- Cells no longer in the grid (their LSOAs' boundaries moved) leave the coverage layer.
DELETE FROM h3_coverage h
WHERE NOT EXISTS (SELECT 1 FROM coverage_grid_stage s WHERE s.fid = h.fid);
