-- Editions and domains the manifest no longer has leave (their values with them, ON DELETE
-- CASCADE); the rest were upserted by foundation/insert_edition.sql and insert_domain.sql.
WITH gone AS (
    DELETE FROM index_edition WHERE code <> ALL (%(editions)s::text[])
)
DELETE FROM index_domain d
WHERE NOT EXISTS (
    SELECT 1 FROM unnest(%(domain_editions)s::text[], %(domains)s::text[]) AS m (edition_code, code)
    WHERE m.edition_code = d.edition_code AND m.code = d.code
)
