-- LSOAs a drawn polygon (EPSG:27700 WKB) touches, with the fraction of each inside it (by area
-- in British National Grid), their residents and index values. Clicks, postcodes and codes
-- are resolved by place_resolution/unit_lsoas.sql.
WITH area AS (
    SELECT ST_GeomFromWKB(%(wkb)s::bytea, 27700) AS g
), members AS (
    SELECT l.code, l.name, l.lad_code,
           CASE WHEN ST_Within(l.geom, area.g) THEN 1.0
                ELSE ST_Area(ST_Intersection(l.geom, area.g)) / ST_Area(l.geom) END AS fraction
    FROM lsoa l, area
    WHERE l.vintage = %(vintage)s AND ST_Intersects(l.geom, area.g)
)
SELECT m.code, m.name, m.lad_code, m.fraction, p.residents, p.method,
       json_object_agg(v.domain_code, json_build_array(v.rank, v.decile)) AS values
FROM members m
JOIN lsoa_population p ON p.edition_code = %(edition)s AND p.lsoa_code = m.code
JOIN lsoa_index_value v ON v.edition_code = %(edition)s AND v.lsoa_code = m.code
WHERE m.fraction > 0
GROUP BY m.code, m.name, m.lad_code, m.fraction, p.residents, p.method
ORDER BY m.code;
