-- On a first load (no index values held): the foreign keys of lsoa_index_value, with their
-- table, definitions and kind (data/deferred_indexes.py), dropped before its ~600,000 rows
-- are copied in and added again after them. A key added to a filled table is checked by one
-- join; kept, it is checked by one query per row copied (10 s of a 16 s COPY on this
-- machine). Nothing reads the empty table meanwhile; on a reload the keys stay, so readers
-- keep seeing the previous values until the commit.
SELECT 'lsoa_index_value', c.conname, pg_get_constraintdef(c.oid), 'constraint'
FROM pg_constraint c
WHERE c.conrelid = 'lsoa_index_value'::regclass
  AND c.contype = 'f'
  AND NOT EXISTS (SELECT 1 FROM lsoa_index_value)
ORDER BY c.conname
