-- A geometry (EPSG:27700) as GeoJSON in EPSG:4326 (5 decimals).
SELECT ST_AsGeoJSON(ST_Transform(ST_GeomFromEWKB(%(geom)s), 4326), 5)::json AS outline;
