-- The indexes of the named tables (a text array) that back no constraint, with their
-- definitions: what a bulk write into the empty tables drops first and builds after the
-- rows (data/deferred_indexes.py). Keys and unique constraints stay.
SELECT i.tablename, i.indexname, i.indexdef
FROM pg_indexes i
WHERE i.schemaname = current_schema()
  AND i.tablename = ANY(%(tables)s::text[])
  AND NOT EXISTS (
      SELECT 1 FROM pg_constraint c
      WHERE c.conindid = to_regclass(quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))
  )
ORDER BY i.tablename, i.indexname;
