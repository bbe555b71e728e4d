-- Residents and Crime domain deciles of some LSOAs of one generation, from the edition on
-- that generation (the current one first).
WITH edition AS (
    SELECT code FROM index_edition WHERE lsoa_vintage = %(generation)s
    ORDER BY is_current DESC, code LIMIT 1
), population AS (
    SELECT sum(p.residents) AS residents, min(p.reference_year) AS reference_year,
           min(p.method) AS method
    FROM lsoa_population p
    WHERE p.edition_code = (SELECT code FROM edition) AND p.lsoa_code = ANY(%(codes)s)
), deciles AS (
    SELECT json_object_agg(decile, lsoas ORDER BY decile) AS deciles
    FROM (
        SELECT v.decile, count(*) AS lsoas
        FROM lsoa_index_value v
        WHERE v.edition_code = (SELECT code FROM edition) AND v.domain_code = 'crime'
          AND v.lsoa_code = ANY(%(codes)s)
        GROUP BY v.decile
    ) d
)
SELECT (SELECT code FROM edition) AS edition, population.*, deciles.deciles
FROM population, deciles;
