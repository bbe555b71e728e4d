-- Resolution-9 cells new to the grid: only these get centres computed.
SELECT s.cell
FROM coverage_grid_cell_stage s
WHERE NOT EXISTS (SELECT 1 FROM h3_cell_adults a WHERE a.cell = s.cell);
