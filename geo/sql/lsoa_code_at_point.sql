-- The LSOA of a geography vintage containing a WGS84 point (tested in British National Grid,
-- where the polygons are held; the GiST index on lsoa.geom serves the && test).
SELECT code
FROM lsoa
WHERE vintage = %(vintage)s
  AND ST_Intersects(geom, ST_Transform(
    -- Only points inside EPSG:27700's area of use (9.01 W to 2.01 E, 49.75 N to 61.01 N) are
    -- projected: far from it the transverse Mercator fails ("Point outside of projection
    -- domain"), and no LSOA lies there anyway, so such a point meets none (NULL).
    CASE WHEN %(lon)s::float8 BETWEEN -9.01 AND 2.01 AND %(lat)s::float8 BETWEEN 49.75 AND 61.01
         THEN ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) END,
    27700))
ORDER BY code
LIMIT 1;
