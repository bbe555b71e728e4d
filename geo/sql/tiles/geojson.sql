-- The same tile as a GeoJSON FeatureCollection (RFC 7946): the MVT's features, ids and
-- properties, with each geometry clipped exactly to the tile (no buffer) and given in
-- EPSG:4326 longitude/latitude with 6 decimals (about 0.1 m). The first part is
-- tiles/features.sql.
{features}
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', coalesce(
        json_agg(
            json_build_object(
                'type', 'Feature',
                'id', tile_fid,
                'geometry', ST_AsGeoJSON(
                    ST_Transform(ST_CollectionExtract(ST_Intersection(source_geom, tile_box), 3), 4326),
                    6
                )::json,
                'properties', json_build_object({property_pairs})
            )
            ORDER BY tile_fid
        ),
        '[]'::json
    )
)::text
FROM tile_features
WHERE tile_geom IS NOT NULL
