-- Measure an area (a group's, or an organiser's patch) in British National Grid: a drawn area
-- (WKB in EPSG:4326, already checked valid) or the union of named LSOAs of the edition's
-- geography. Returns the area as WKB in EPSG:27700, its size, the named LSOAs found, and how
-- many square metres of it lie in each loaded district. The pieces are cut by the edition's
-- LSOAs (which nest in their districts and are the geography coverage is computed on), so the
-- "inside England" test and the districts it touches agree with coverage exactly.
WITH area AS (
    SELECT CASE
        WHEN %(wkb)s::bytea IS NOT NULL
            THEN ST_Multi(ST_Transform(ST_GeomFromWKB(%(wkb)s::bytea, 4326), 27700))
        ELSE (
            SELECT ST_Multi(ST_CollectionExtract(ST_Union(l.geom), 3))
            FROM lsoa l
            WHERE l.vintage = %(vintage)s AND l.code = ANY(%(lsoa_codes)s::text[])
        )
    END AS geom
), pieces AS (
    SELECT l.lad_code, sum(ST_Area(ST_Intersection(l.geom, area.geom))) AS m2
    FROM lsoa l, area
    WHERE l.vintage = %(vintage)s AND ST_Intersects(l.geom, area.geom)
    GROUP BY l.lad_code
)
SELECT ST_AsBinary(area.geom) AS wkb,
       coalesce(ST_Area(area.geom), 0) AS m2,
       coalesce(ST_NPoints(area.geom), 0) AS vertices,
       ARRAY(
           SELECT l.code FROM lsoa l
           WHERE l.vintage = %(vintage)s AND l.code = ANY(%(lsoa_codes)s::text[])
           ORDER BY l.code
       ) AS lsoa_codes_found,
       coalesce((SELECT jsonb_object_agg(lad_code, m2) FROM pieces), '{}'::jsonb) AS lad_m2,
       (SELECT count(DISTINCT l.lad_code) FROM lsoa l WHERE l.vintage = %(vintage)s)
           AS loaded_lads
FROM area;
