-- Resolution-9 cells no longer in the grid.
DELETE FROM h3_cell_adults a
WHERE NOT EXISTS (SELECT 1 FROM coverage_grid_cell_stage s WHERE s.cell = a.cell);
