-- The indexes a bulk build of the grid drops and makes again after the rows, with their
-- definitions: the spatial (GiST) indexes of the resolution-9 cells and the cells' LSOA index
-- (one sorted build is far cheaper than 1.4 million inserts into each; the coarser
-- resolutions' indexes, over a sixth as many cells, are kept: each index build reads the
-- whole table; the keys, inserted in their order, are kept too).
SELECT indexname, indexdef
FROM pg_indexes
WHERE schemaname = current_schema()
  AND ((indexdef LIKE '%% USING gist %%'
        AND (tablename = 'h3_cell_adults'
             OR (tablename = 'h3_cell_geometry' AND indexdef LIKE '%%(resolution = 9)%%')))
       OR indexname = 'ix_h3_cell_adults_lsoa')
ORDER BY indexname;
