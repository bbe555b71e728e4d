-- LSOAs of an area with the fraction of each inside it, their residents and index values.
-- The area is given one way: a point (lon/lat), a polygon (EPSG:27700 WKB), or a unit
-- (LSOA, ward or LAD code). Fractions are by area in British National Grid.
WITH area AS (
    SELECT CASE
        WHEN %(wkb)s::bytea IS NOT NULL THEN ST_GeomFromWKB(%(wkb)s::bytea, 27700)
        WHEN %(lon)s::float8 IS NOT NULL
            THEN ST_Transform(ST_SetSRID(ST_MakePoint(%(lon)s::float8, %(lat)s::float8), 4326), 27700)
    END AS g
), members AS (
    SELECT l.code, l.name, l.lad_code,
           CASE WHEN %(wkb)s::bytea IS NULL OR ST_Within(l.geom, area.g) THEN 1.0
                ELSE ST_Area(ST_Intersection(l.geom, area.g)) / ST_Area(l.geom) END AS fraction
    FROM lsoa l, area
    WHERE l.vintage = %(vintage)s
      AND CASE
          WHEN area.g IS NOT NULL THEN ST_Intersects(l.geom, area.g)
          WHEN %(unit_level)s::text = 'lsoa' THEN l.code = %(unit_code)s
          WHEN %(unit_level)s::text = 'ward' THEN l.ward_code = %(unit_code)s
          WHEN %(unit_level)s::text = 'lad' THEN l.lad_code = %(unit_code)s
          ELSE false END
)
SELECT m.code, m.name, m.lad_code, m.fraction, p.residents, p.method,
       json_object_agg(v.domain_code, json_build_array(v.rank, v.decile)) AS values
FROM members m
JOIN lsoa_population p ON p.edition_code = %(edition)s AND p.lsoa_code = m.code
JOIN lsoa_index_value v ON v.edition_code = %(edition)s AND v.lsoa_code = m.code
WHERE m.fraction > 0
GROUP BY m.code, m.name, m.lad_code, m.fraction, p.residents, p.method
ORDER BY m.code;
