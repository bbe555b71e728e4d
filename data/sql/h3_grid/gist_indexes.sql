-- The spatial (GiST) indexes of the resolution-9 cells, with their definitions: dropped before
-- a bulk build of the grid and made again after it from these definitions (one sorted build is
-- far cheaper than 1.4 million inserts into each; the coarser resolutions' indexes, over a
-- sixth as many cells, are kept: each index build reads the whole table).
SELECT indexname, indexdef
FROM pg_indexes
WHERE schemaname = current_schema()
  AND indexdef LIKE '%% USING gist %%'
  AND (tablename = 'h3_cell_adults'
       OR (tablename = 'h3_cell_geometry' AND indexdef LIKE '%%(resolution = 9)%%'))
ORDER BY indexname;
