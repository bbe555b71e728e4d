-- areas/lsoa_profile.sql's `wanted` row for a map click: the named (or current) edition
-- (areas/edition.sql, composed in) and the LSOA of its geography containing a WGS84 point
-- (tested in British National Grid, where the polygons are held; the GiST index on lsoa.geom
-- serves the && test), the first by code on a shared boundary. No row when there is no such
-- edition or no LSOA there (geo.areas then tells which).
-- Planning this statement costs several times running it (1.4 ms against 0.3 ms), so it must
-- run on the cached generic plan of the prepared statement (psycopg prepares it on its fifth
-- run on a connection). PostgreSQL keeps a generic plan only if its estimate is no worse than
-- the custom plans', so nothing may be cheaper with the values known: the point is an InitPlan
-- (a custom plan cannot fold it into the index condition either) and the edition at most one
-- row (it is: a code, or England's current one). p50 0.30 ms instead of 1.8 ms, same rows.
SELECT l.code, l.vintage, e.code AS edition, row_to_json(e) AS edition_ref
FROM ({edition} LIMIT 1) AS e
CROSS JOIN LATERAL (
    SELECT code, vintage
    FROM lsoa
    WHERE vintage = e.lsoa_vintage
      AND ST_Intersects(
          geom, (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), 27700))
      )
    ORDER BY code
    LIMIT 1
) AS l
