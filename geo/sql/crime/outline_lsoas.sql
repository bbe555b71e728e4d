-- The outline of some LSOAs of one generation, as GeoJSON in EPSG:4326 (5 decimals).
SELECT ST_AsGeoJSON(ST_Union(geom_4326), 5)::json AS outline
FROM lsoa WHERE vintage = %(generation)s AND code = ANY(%(codes)s);
