-- Residents of some LSOAs of one generation, from the population loaded with the edition
-- on that generation (the current one first).
WITH edition AS (
    SELECT code FROM index_edition WHERE lsoa_vintage = %(generation)s
    ORDER BY is_current DESC, code LIMIT 1
)
SELECT (SELECT code FROM edition) AS edition, sum(p.residents) AS residents,
       min(p.reference_year) AS reference_year, min(p.method) AS method, count(*) AS lsoas
FROM lsoa_population p
WHERE p.edition_code = (SELECT code FROM edition) AND p.lsoa_code = ANY(%(codes)s);
