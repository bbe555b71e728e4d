-- areas/lsoa_profile.sql's `wanted` row for a map click: the named (or current) edition
-- (areas/edition.sql, composed in) and the LSOA of its geography containing a WGS84 point
-- (tested in British National Grid, where the polygons are held; the GiST index on lsoa.geom
-- serves the && test), the first by code on a shared boundary. No row when there is no such
-- edition or no LSOA there (geo.areas then tells which).
SELECT l.code, l.vintage, e.code AS edition, row_to_json(e) AS edition_ref
FROM ({edition}) AS e
CROSS JOIN LATERAL (
    SELECT code, vintage
    FROM lsoa
    WHERE vintage = e.lsoa_vintage
      AND ST_Intersects(geom, ST_Transform(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), 27700))
    ORDER BY code
    LIMIT 1
) AS l
