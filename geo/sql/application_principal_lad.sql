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
    SELECT l.code, l.lad_code,
           CASE WHEN app.area IS NULL OR ST_Within(l.geom, app.area) THEN 1.0
                ELSE ST_Area(ST_Intersection(l.geom, app.area)) / ST_Area(l.geom) END AS fraction
    FROM app
    JOIN lsoa l ON l.vintage = app.lsoa_vintage
    WHERE CASE WHEN app.area IS NOT NULL THEN ST_Intersects(l.geom, app.area)
               ELSE app.area_code IN (l.code, l.ward_code, l.lad_code) END
)
SELECT m.lad_code
FROM members m
CROSS JOIN app
JOIN lsoa_population p ON p.edition_code = app.edition AND p.lsoa_code = m.code
GROUP BY m.lad_code
ORDER BY sum(p.residents * m.fraction) DESC, m.lad_code
LIMIT 1;
