-- The coverage edition's LSOAs with their adults and boundaries (EPSG:27700), optionally only
-- those in some districts, in code order (the synthetic plan depends on this order).
SELECT l.code, l.lad_code, p.adults_18_plus, ST_AsBinary(l.geom)
FROM index_edition e
JOIN lsoa l ON l.vintage = e.lsoa_vintage
JOIN lsoa_population p ON p.edition_code = e.code AND p.lsoa_code = l.code
WHERE e.code = %(edition)s
  AND (%(lad_codes)s::text[] IS NULL OR l.lad_code = ANY(%(lad_codes)s::text[]))
ORDER BY l.code;
