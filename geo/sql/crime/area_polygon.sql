-- A drawn GeoJSON polygon (EPSG:4326): its validity, area and the geometry in EPSG:27700.
WITH g AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(%(geojson)s), 4326) AS g)
SELECT GeometryType(g.g) AS kind, ST_IsValid(g.g) AS valid, ST_IsValidReason(g.g) AS reason,
       ST_Area(ST_Transform(g.g, 27700)) / 1e6 AS area_km2,
       ST_AsEWKB(ST_Transform(g.g, 27700)) AS geom
FROM g;
