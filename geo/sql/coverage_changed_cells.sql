-- The resolution-9 cells a national recompute looks at (coverage_h3_stage_all.sql), with their
-- adults and whether they are covered and organised now.
CREATE TEMP TABLE IF NOT EXISTS coverage_cell_state (
    cell bigint PRIMARY KEY, adults float8, deprived_adults float8,
    covered boolean, organised boolean
) ON COMMIT DROP;
TRUNCATE coverage_cell_state;
