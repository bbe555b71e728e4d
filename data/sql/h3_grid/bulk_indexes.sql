-- The indexes a bulk build of the grid drops and makes again after the rows
-- (data/deferred_indexes.py), with their tables, definitions and kinds: the spatial (GiST)
-- indexes of the resolution-9 cells, the cells' LSOA index, and the keys of the three tables
-- the build copies into (one sorted build is far cheaper than 1.4 million inserts into each; the
-- coarser resolutions' spatial indexes, over a sixth as many cells, are kept: each index
-- build reads the whole table). No foreign key refers to these keys; the rows are compared
-- with the stored grid (and the stale ones deleted) before the keys are dropped, and a
-- rebuilt key checks the rows as it is made.
SELECT i.tablename, i.indexname, i.indexdef,
       CASE WHEN c.conname IS NOT NULL THEN 'primary key' ELSE 'index' END
FROM pg_indexes i
LEFT JOIN pg_constraint c
       ON c.contype = 'p'
      AND c.conindid = to_regclass(quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))
WHERE i.schemaname = current_schema()
  AND ((i.indexdef LIKE '% USING gist %'
        AND (i.tablename = 'h3_cell_adults'
             OR (i.tablename = 'h3_cell_geometry' AND i.indexdef LIKE '%(resolution = 9)%')))
       OR i.indexname = 'ix_h3_cell_adults_lsoa'
       OR i.indexname = 'ix_h3_coverage_fid'
       OR (c.conname IS NOT NULL
           AND i.tablename IN ('h3_cell_adults', 'h3_cell_geometry', 'h3_coverage')))
ORDER BY i.indexname;
