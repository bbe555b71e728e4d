-- Write the staged resolution-9 cells (coverage_h3_stage_all.sql) whose coverage changed.
WITH computed AS (SELECT cell, covered, organised FROM coverage_cell_state)
{update};
