-- The name of the LSOA of a geography vintage under a WGS84 point (tested in British National
-- Grid, where the polygons are held), or no row.
SELECT code, name
FROM lsoa
WHERE vintage = %(vintage)s
  AND ST_Intersects(geom, ST_Transform(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), 27700))
ORDER BY code
LIMIT 1;
