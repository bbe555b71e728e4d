-- What the H3 grid needs of each coverage LSOA: its WGS84 boundary, a point inside it (for an
-- LSOA too small to hold a cell centre) and its adults and IMD decile.
SELECT c.code, ST_AsBinary(c.geom_4326) AS boundary_wkb,
       ST_X(inside.point) AS inside_lon, ST_Y(inside.point) AS inside_lat,
       c.adults, c.imd_decile
FROM lsoa_coverage c
CROSS JOIN LATERAL (SELECT ST_Transform(ST_PointOnSurface(c.geom), 4326) AS point) inside
ORDER BY c.code;
