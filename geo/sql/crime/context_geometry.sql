-- Residents inside a geometry (EPSG:27700): each 2021 LSOA's residents times the share of its
-- area inside (an even spread within each LSOA), and the Crime domain deciles of the LSOAs
-- it touches, from the current edition on 2021 LSOAs.
WITH edition AS (
    SELECT code FROM index_edition WHERE lsoa_vintage = 2021 ORDER BY is_current DESC, code LIMIT 1
), area AS (SELECT ST_GeomFromEWKB(%(geom)s) AS g
), touched AS (
    SELECT l.code, ST_Area(ST_Intersection(l.geom, a.g)) / nullif(ST_Area(l.geom), 0) AS share
    FROM area a JOIN lsoa l ON l.vintage = 2021 AND ST_Intersects(l.geom, a.g)
), population AS (
    SELECT sum(p.residents * t.share) AS residents, min(p.reference_year) AS reference_year,
           min(p.method) AS method
    FROM touched t
    JOIN lsoa_population p ON p.edition_code = (SELECT code FROM edition) AND p.lsoa_code = t.code
), deciles AS (
    SELECT json_object_agg(decile, lsoas ORDER BY decile) AS deciles
    FROM (
        SELECT v.decile, count(*) AS lsoas
        FROM touched t
        JOIN lsoa_index_value v ON v.edition_code = (SELECT code FROM edition)
             AND v.domain_code = 'crime' AND v.lsoa_code = t.code
        GROUP BY v.decile
    ) d
)
SELECT (SELECT code FROM edition) AS edition, population.*, deciles.deciles
FROM population, deciles;
