-- Cut organisers' patches by the coverage LSOAs (EPSG:27700): one piece per organiser and LSOA it
-- overlaps with positive area (touching along an edge is not overlapping). An LSOA wholly
-- inside the patch is its own piece, without computing an intersection. {owners} is a fixed
-- fragment choosing the organisers: all of them, or o.id = :id. OFFSET 0 keeps the piece computed
-- once (not again in the outer filter).
INSERT INTO organiser_lsoa (organiser_id, lsoa_code, piece)
SELECT id, code, piece
FROM (
    SELECT o.id, l.code,
           CASE WHEN ST_CoveredBy(l.geom, o.patch) THEN l.geom
                ELSE ST_Multi(ST_CollectionExtract(ST_Intersection(l.geom, o.patch), 3))
           END AS piece
    FROM organiser o
    JOIN lsoa_coverage l ON ST_Intersects(l.geom, o.patch)
    WHERE {owners}
    OFFSET 0
) cut
WHERE NOT ST_IsEmpty(piece) AND ST_Area(piece) > 0;
