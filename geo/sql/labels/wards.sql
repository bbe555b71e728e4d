-- Ward names to write on the map: the current edition's wards with an LSOA in the box, each
-- at a point inside the union of its LSOAs (ward boundaries of that vintage are not held; the
-- LSOAs nest in them), in WGS84.
WITH edition AS (
    SELECT lsoa_vintage, ward_vintage FROM index_edition WHERE is_current
), touched AS (
    SELECT DISTINCT s.ward_code
    FROM lsoa s, edition e
    WHERE s.vintage = e.lsoa_vintage AND s.ward_code IS NOT NULL
      AND s.geom_4326 && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326)
    LIMIT %(limit)s
), placed AS (
    SELECT s.ward_code, ST_PointOnSurface(ST_Union(s.geom_4326)) AS point
    FROM lsoa s, edition e
    WHERE s.vintage = e.lsoa_vintage AND s.ward_code IN (SELECT ward_code FROM touched)
    GROUP BY s.ward_code
)
SELECT w.code, w.name, ST_X(p.point) AS lon, ST_Y(p.point) AS lat
FROM placed p
JOIN edition e ON true
JOIN ward w ON w.code = p.ward_code AND w.vintage = e.ward_vintage
ORDER BY w.code;
