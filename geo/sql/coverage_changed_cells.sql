-- Work tables of a national H3 recompute: the resolution-9 cells it looks at, whether each is
-- covered and organised now (coverage_h3_stage_all.sql), and what changed in each cell that
-- changed (coverage_h3_all.sql), from which the ancestors are updated.
CREATE TEMP TABLE IF NOT EXISTS coverage_cell_state (
    cell bigint, covered boolean, organised boolean
) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS coverage_cell_delta (
    cell bigint, covered boolean, organised boolean, adults_covered float8,
    deprived_adults_covered float8, adults_organiser_covered float8
) ON COMMIT DROP;
TRUNCATE coverage_cell_state, coverage_cell_delta;
