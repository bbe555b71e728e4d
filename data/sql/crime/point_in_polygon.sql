-- Point in polygon in the LSOAs of one generation, for the points of a temporary table (its
-- name is put in by data/crime.py: crime_points for 2011, crime_points21 for 2021), LSOA by
-- LSOA (the LATERAL keeps that order): PostGIS prepares a polygon it tests against many
-- points in a row, which testing each point against its candidate polygons never allows.
-- Only LSOAs in the points' extent are visited. A point on a boundary two LSOAs share takes
-- the lowest code.
INSERT INTO crime_pip (generation, lon, lat, code)
SELECT %(generation)s, p.lon, p.lat, min(l.code)
FROM lsoa l
CROSS JOIN LATERAL (SELECT p.lon, p.lat FROM {points} p WHERE ST_Intersects(l.geom, p.geom)) p
WHERE l.vintage = %(generation)s
  AND l.geom && (SELECT ST_SetSRID(ST_Extent(geom)::geometry, 27700) FROM {points})
GROUP BY p.lon, p.lat;
