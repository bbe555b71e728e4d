-- The grid computed after a load, staged for comparison with the stored one: every cell of
-- resolutions 6-9 with its adults, and the resolution-9 cells with their LSOA (decile 0: none).
CREATE TEMP TABLE IF NOT EXISTS coverage_grid_stage (
    resolution smallint, fid bigint, adults float8, deprived_adults float8
) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS coverage_grid_cell_stage (
    cell bigint, lsoa_code text, adults float8, imd_decile integer
) ON COMMIT DROP;
TRUNCATE coverage_grid_stage, coverage_grid_cell_stage;
