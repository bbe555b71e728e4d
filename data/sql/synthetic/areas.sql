-- Build and measure every planned area in EPSG:27700. A circle (a drawn group area or an
-- organiser's patch) is cut by the district land pieces (synthetic/land.sql): the pieces it
-- overlaps, unioned, are its area clipped to the LSOA layer (no sea), and their areas per
-- district give the districts it touches and the one holding most of it. A group given as LSOAs
-- is their union; its districts are theirs. As for registered groups (geo.groups.measure_area),
-- a district counts when it holds more than a set share of the area or more than a set number
-- of square metres (smaller pieces are slivers of generalised boundaries); the principal
-- district holds the most. Pieces are unioned in
-- a fixed order, so the same plan always gives the same geometry.
CREATE TEMP TABLE synthetic_area ON COMMIT DROP AS
WITH circle AS (
    SELECT 'group' AS owner, p.ordinal,
           ST_Buffer(ST_SetSRID(ST_MakePoint(p.x, p.y), 27700), p.radius_m, 'quad_segs=8') AS geom
    FROM synthetic_group_plan p
    WHERE p.lsoa_codes IS NULL
    UNION ALL
    SELECT 'organiser', p.ordinal,
           ST_Buffer(ST_SetSRID(ST_MakePoint(p.x, p.y), 27700), p.radius_m, 'quad_segs=8')
    FROM synthetic_organiser_plan p
), piece AS (
    SELECT c.owner, c.ordinal, s.lad_code, lpad(s.part::text, 6, '0') AS part,
           CASE WHEN ST_CoveredBy(c.geom, s.geom) THEN c.geom
                ELSE ST_CollectionExtract(ST_Intersection(c.geom, s.geom), 3)
           END AS geom
    FROM circle c
    JOIN synthetic_land s ON ST_Intersects(s.geom, c.geom)
), lsoa_piece AS (
    SELECT 'group' AS owner, p.ordinal, l.lad_code, l.code AS part, l.geom
    FROM synthetic_group_plan p
    JOIN lsoa l ON l.vintage = %(vintage)s AND l.code = ANY(p.lsoa_codes)
    WHERE p.lsoa_codes IS NOT NULL
), all_piece AS (
    SELECT owner, ordinal, lad_code, part, geom, ST_Area(geom) AS m2 FROM piece
    UNION ALL
    SELECT owner, ordinal, lad_code, part, geom, ST_Area(geom) FROM lsoa_piece
), by_lad AS (
    SELECT owner, ordinal, lad_code, sum(m2) AS m2
    FROM all_piece
    WHERE m2 > 0
    GROUP BY owner, ordinal, lad_code
), totals AS (
    SELECT owner, ordinal, sum(m2) AS m2 FROM by_lad GROUP BY owner, ordinal
), lads AS (
    SELECT b.owner, b.ordinal,
           array_agg(b.lad_code ORDER BY b.lad_code)
               FILTER (WHERE b.m2 > %(lad_share_min)s * t.m2 OR b.m2 > %(lad_m2_min)s)
               AS lad_codes,
           (array_agg(b.lad_code ORDER BY b.m2 DESC, b.lad_code))[1] AS principal_lad_code
    FROM by_lad b
    JOIN totals t USING (owner, ordinal)
    GROUP BY b.owner, b.ordinal
), shape AS (
    SELECT owner, ordinal, ST_Multi(ST_CollectionExtract(ST_Union(geom ORDER BY lad_code, part), 3)) AS geom
    FROM all_piece
    WHERE m2 > 0
    GROUP BY owner, ordinal
)
SELECT s.owner, s.ordinal, s.geom, ST_Area(s.geom) / 1e6 AS area_km2, l.lad_codes,
       l.principal_lad_code
FROM shape s
JOIN lads l USING (owner, ordinal);
