-- The principal district of an application's area: the district holding most of its residents
-- in the programme edition's geography (area-weighted in British National Grid for a polygon,
-- as geo.eligibility.AreaFacts.principal_lad does; ties go to the lowest code). It decides
-- which officers may see and decide the application.
WITH app AS (
    SELECT a.area_code, a.area, e.code AS edition, e.lsoa_vintage
    FROM grant_application a
    JOIN grant_programme p ON p.id = a.programme_id
    JOIN index_edition e ON e.code = p.edition_code
    WHERE a.id = %(id)s
), members AS (
    -- Two branches, each able to use its index (one CASE over both scanned every LSOA of the
    -- vintage: 4.6 s per application read on all of England, JIT included; now under 10 ms).
    -- A code: the LSOA it names, or every LSOA of the ward or district it names.
    SELECT l.code, l.lad_code, 1.0::float8 AS fraction
    FROM app
    JOIN lsoa l ON l.vintage = app.lsoa_vintage
    WHERE app.area IS NULL
      AND (l.code = app.area_code OR l.ward_code = app.area_code OR l.lad_code = app.area_code)
    UNION ALL
    -- A polygon: the LSOAs it touches, each by the share of its area inside.
    SELECT l.code, l.lad_code,
           CASE WHEN ST_Within(l.geom, app.area) THEN 1.0
                ELSE ST_Area(ST_Intersection(l.geom, app.area)) / ST_Area(l.geom) END
    FROM app
    JOIN lsoa l ON l.vintage = app.lsoa_vintage AND ST_Intersects(l.geom, app.area)
    WHERE app.area IS NOT NULL
)
SELECT m.lad_code
FROM members m
CROSS JOIN app
JOIN lsoa_population p ON p.edition_code = app.edition AND p.lsoa_code = m.code
GROUP BY m.lad_code
ORDER BY sum(p.residents * m.fraction) DESC, m.lad_code
LIMIT 1;
