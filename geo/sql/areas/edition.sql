-- The named edition, or the current English edition when none is named.
SELECT code, title, country, published, lsoa_vintage, lad_vintage, national_lsoa_count, is_current
FROM index_edition
WHERE CASE WHEN %(edition)s::text IS NULL THEN is_current AND country = 'England'
           ELSE code = %(edition)s END;
