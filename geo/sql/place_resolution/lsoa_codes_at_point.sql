-- The LSOA containing a WGS84 point in each of several geography vintages, in one statement:
-- areas/lsoa_code_at_point.sql's choice per vintage (the lowest code where the point lies on a
-- boundary), NULL where none contains it. The point is an InitPlan, so a custom plan is no
-- cheaper than the prepared statement's generic one, which PostgreSQL then keeps instead of
-- planning every click again (p50 0.25 -> 0.19 ms from psycopg on all England, same rows).
-- Every row carries the data version read in the same snapshot: the areas a click resolves to
-- are kept per version (geo.place_resolution.UnitCache).
SELECT v.vintage, (
    SELECT l.code
    FROM lsoa l
    WHERE l.vintage = v.vintage
      AND ST_Intersects(l.geom, (SELECT ST_Transform(
          ST_SetSRID(ST_MakePoint(%(lon)s::float8, %(lat)s::float8), 4326), 27700)))
    ORDER BY l.code
    LIMIT 1) AS code,
    COALESCE((SELECT version FROM data_version WHERE id = 1), 0) AS data_version
FROM unnest(%(vintages)s::smallint[]) AS v(vintage);
