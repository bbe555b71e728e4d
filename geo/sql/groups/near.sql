-- The active groups whose area covers a point (lon/lat, EPSG:4326), nearest first: by the
-- distance in metres (British National Grid) from the point to the centroid of the group's
-- area, ties by id. The GiST index on community_group.area serves the covering test.
WITH here AS (
    SELECT ST_Transform(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), 27700) AS geom
)
SELECT g.id, ST_Distance(here.geom, ST_Centroid(g.area)) AS distance_m
FROM community_group g, here
WHERE g.listed
  AND g.last_activity_on >= %(active_since)s::date
  AND ST_Covers(g.area, here.geom)
ORDER BY distance_m, g.id
LIMIT %(limit)s;
