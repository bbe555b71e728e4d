-- The resolution-9 cells a national recompute changed, for coverage_h3_parents.sql.
CREATE TEMP TABLE IF NOT EXISTS coverage_changed_cell (cell bigint) ON COMMIT DROP;
TRUNCATE coverage_changed_cell;
