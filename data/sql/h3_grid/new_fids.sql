-- Cells of a resolution new to the coverage layer: only these get geometries computed.
SELECT s.fid
FROM coverage_grid_stage s
WHERE s.resolution = %(resolution)s
  AND NOT EXISTS (SELECT 1 FROM h3_coverage h WHERE h.fid = s.fid);
