-- One Mapbox Vector Tile (spec 2.1): layer named after the collection, the registry's integer
-- id column as feature id, the zoom's tile properties as attributes. The first part is
-- tiles/features.sql. An empty tile is an empty (valid) MVT, not NULL.
{features}
SELECT coalesce(ST_AsMVT(mvt.*, %(layer)s, %(extent)s, 'tile_geom', 'tile_fid'), ''::bytea)
FROM (
    SELECT tile_fid, tile_geom{property_names}
    FROM tile_features
    WHERE tile_geom IS NOT NULL
) AS mvt
