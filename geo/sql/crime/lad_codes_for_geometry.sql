-- The districts a geometry (EPSG:27700) touches.
SELECT DISTINCT code FROM lad WHERE ST_Intersects(geom, ST_GeomFromEWKB(%(geom)s));
