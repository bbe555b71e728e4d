-- The coverage LSOA containing a WGS84 point (tested in British National Grid).
SELECT code
FROM lsoa_coverage
WHERE ST_Intersects(geom, ST_Transform(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), 27700))
ORDER BY code
LIMIT 1;
