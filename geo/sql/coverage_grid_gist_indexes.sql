-- The spatial (GiST) indexes of the grid tables, with their definitions: dropped before a bulk
-- build of the grid and made again after it from these definitions (one sorted build is far
-- cheaper than a million inserts into each index).
SELECT indexname, indexdef
FROM pg_indexes
WHERE schemaname = current_schema()
  AND tablename IN ('h3_coverage', 'h3_cell_adults')
  AND indexdef LIKE '%% USING gist %%'
ORDER BY indexname;
