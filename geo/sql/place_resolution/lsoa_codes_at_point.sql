-- The LSOA containing a WGS84 point in each of several geography vintages, in one statement:
-- areas/lsoa_code_at_point.sql's choice per vintage (the lowest code where the point lies on a
-- boundary), NULL where none contains it.
SELECT v.vintage, (
    SELECT l.code
    FROM lsoa l
    WHERE l.vintage = v.vintage
      AND ST_Intersects(l.geom, ST_Transform(
          ST_SetSRID(ST_MakePoint(%(lon)s::float8, %(lat)s::float8), 4326), 27700))
    ORDER BY l.code
    LIMIT 1) AS code
FROM unnest(%(vintages)s::smallint[]) AS v(vintage);
