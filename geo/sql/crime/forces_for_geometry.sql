-- (Part of forces.sql.) The forces whose crimes fall in the districts a geometry
-- (EPSG:27700) touches.
SELECT f.force
FROM lad d JOIN crime_force_lad f ON f.lad_code = d.code
WHERE ST_Intersects(d.geom, ST_GeomFromEWKB(%(geom)s))
