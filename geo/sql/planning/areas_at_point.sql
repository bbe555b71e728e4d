-- Live neighbourhood areas (applied, publicised or designated) containing a lon/lat point,
-- designated first.
SELECT a.id
FROM neighbourhood_area a
WHERE a.status IN ('applied', 'publicised', 'designated')
  AND ST_Intersects(a.geom, ST_Transform(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), 27700))
ORDER BY (a.status = 'designated') DESC, a.id
LIMIT 5;
