-- The new resolution-9 cells with their centres (EPSG:27700).
INSERT INTO h3_cell_adults (cell, lsoa_code, adults, imd_decile, centre)
SELECT cell, lsoa_code, adults, nullif(imd_decile, 0), centre
FROM coverage_grid_new_cell;
