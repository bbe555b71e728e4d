-- Resolution-9 cells whose LSOA, adults or decile changed (their centres never move).
UPDATE h3_cell_adults a
SET lsoa_code = s.lsoa_code, adults = s.adults, imd_decile = nullif(s.imd_decile, 0)
FROM coverage_grid_cell_stage s
WHERE a.cell = s.cell
  AND (a.lsoa_code, a.adults, a.imd_decile)
      IS DISTINCT FROM (s.lsoa_code, s.adults, nullif(s.imd_decile, 0));
