-- The LSOA of a geography vintage containing a WGS84 point (tested in British National Grid,
-- where the polygons are held; the GiST index on lsoa.geom serves the && test).
SELECT code
FROM lsoa
WHERE vintage = %(vintage)s
  AND ST_Intersects(geom, ST_Transform(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), 27700))
ORDER BY code
LIMIT 1;
