-- The features of one tile of one collection, shared by the MVT and GeoJSON encodings so both
-- carry the same features: those intersecting the tile's bounds that do not collapse at the
-- tile's resolution (ST_AsMVTGeom returns NULL for those; the encodings drop NULLs).
-- ST_AsMVTGeom clips to the tile plus its buffer and snaps to the extent's grid. The CTE is
-- MATERIALIZED so ST_AsMVTGeom runs once per row, not once per reference.
-- Table, column and property names come from the collection registry as
-- psycopg.sql.Identifier; the row filter compares registry columns with bound parameters.
-- GeoJSON tiles also carry each source geometry and the tile's box (source_geom, tile_box: to
-- clip exactly); MVT tiles do not (copying every geometry into the CTE cost about a tenth of
-- the time of the z6-z7 England tiles measured).
WITH bounds AS (
    SELECT ST_MakeEnvelope(%(xmin)s, %(ymin)s, %(xmax)s, %(ymax)s, %(srid)s) AS box
),
tile_features AS MATERIALIZED (
    SELECT t.{id_column} AS tile_fid,
           ST_AsMVTGeom(t.{geometry}, bounds.box, %(extent)s, %(buffer)s, true) AS tile_geom{source}{properties}
    FROM {table} AS t, bounds
    WHERE {filter}
      AND ST_Intersects(t.{geometry}, bounds.box)
)
