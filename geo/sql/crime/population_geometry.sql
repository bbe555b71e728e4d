-- Residents inside a geometry (EPSG:27700): each 2021 LSOA's residents times the share of its
-- area inside (an even spread within each LSOA), from the current edition's population.
WITH edition AS (
    SELECT code FROM index_edition WHERE lsoa_vintage = 2021 ORDER BY is_current DESC, code LIMIT 1
), area AS (SELECT ST_GeomFromEWKB(%(geom)s) AS g)
SELECT (SELECT code FROM edition) AS edition,
       sum(p.residents * ST_Area(ST_Intersection(l.geom, a.g)) / nullif(ST_Area(l.geom), 0))
           AS residents,
       min(p.reference_year) AS reference_year, min(p.method) AS method,
       array_agg(l.code ORDER BY l.code) AS codes
FROM area a
JOIN lsoa l ON l.vintage = 2021 AND ST_Intersects(l.geom, a.g)
JOIN lsoa_population p ON p.edition_code = (SELECT code FROM edition) AND p.lsoa_code = l.code;
