-- The council's own district: the district (IoD2025 geography) holding most of the file's
-- published points; returns a point inside it (ST_PointOnSurface), in WGS84.
WITH point AS (
    SELECT ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), 27700) AS geom
    FROM unnest(%(lons)s::float8[], %(lats)s::float8[]) AS p(lon, lat)
), counted AS (
    SELECT d.lad_code, count(*) AS points
    FROM point p
    JOIN lsoa_deprivation d ON ST_Intersects(d.geom, p.geom)
    JOIN index_edition e ON e.code = d.edition_code AND e.is_current
    GROUP BY d.lad_code
    ORDER BY points DESC, d.lad_code
    LIMIT 1
)
SELECT ST_X(ST_Transform(ST_PointOnSurface(l.geom), 4326)) AS lon,
       ST_Y(ST_Transform(ST_PointOnSurface(l.geom), 4326)) AS lat
FROM counted c
JOIN lad l ON l.code = c.lad_code
ORDER BY l.vintage DESC
LIMIT 1;
