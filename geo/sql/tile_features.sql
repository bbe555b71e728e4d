-- The features of one tile of one collection, shared by the MVT and GeoJSON encodings so both
-- carry the same features. A feature belongs to a tile when its interior meets the tile's
-- bounds (DE-9IM 'T********': a neighbour that only touches the edge is left out) and it does
-- not collapse at the tile's resolution (ST_AsMVTGeom returns NULL for those). ST_AsMVTGeom
-- clips to the tile plus its buffer and snaps to the extent's grid.
-- Table, column and property names come from the collection registry as
-- psycopg.sql.Identifier; the row filter compares registry columns with bound parameters.
WITH bounds AS (
    SELECT ST_MakeEnvelope(%(xmin)s, %(ymin)s, %(xmax)s, %(ymax)s, %(srid)s) AS box
),
tile_features AS (
    SELECT t.{id_column} AS tile_fid,
           ST_AsMVTGeom(t.{geometry}, bounds.box, %(extent)s, %(buffer)s, true) AS tile_geom,
           t.{geometry} AS source_geom,
           bounds.box AS tile_box{properties}
    FROM {table} AS t, bounds
    WHERE {filter}
      AND t.{geometry} && bounds.box
      AND ST_Relate(t.{geometry}, bounds.box, 'T********')
)
