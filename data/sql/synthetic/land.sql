-- The LSOA layer's extent near the planned areas, per district: each district's LSOAs (of the
-- coverage geography) dissolved and cut into small pieces (at most 64 vertices each), so
-- clipping a circle to the land and measuring how much of it lies in each district touches
-- only a few small polygons. LSOAs nest in districts, so a district's pieces are exactly the
-- union of its LSOAs. Inputs are ordered so that the same LSOAs always give the same pieces.
CREATE TEMP TABLE synthetic_land ON COMMIT DROP AS
SELECT d.lad_code, s.part, s.geom
FROM (
    SELECT l.lad_code, ST_Union(l.geom ORDER BY l.code) AS geom
    FROM lsoa l
    WHERE l.vintage = %(vintage)s
      AND l.geom && ST_MakeEnvelope(%(xmin)s, %(ymin)s, %(xmax)s, %(ymax)s, 27700)
    GROUP BY l.lad_code
) d
CROSS JOIN LATERAL ST_Subdivide(d.geom, 64) WITH ORDINALITY AS s(geom, part);
