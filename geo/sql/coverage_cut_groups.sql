-- Cut groups' areas by the coverage LSOAs (EPSG:27700): one piece per group and LSOA it
-- overlaps with positive area (touching along an edge is not overlapping). An LSOA wholly
-- inside the area is its own piece, without computing an intersection. {owners} is a fixed
-- fragment choosing the groups: all of them, or o.id = :id. OFFSET 0 keeps the piece computed
-- once (not again in the outer filter).
INSERT INTO group_lsoa (group_id, lsoa_code, piece)
SELECT id, code, piece
FROM (
    SELECT o.id, l.code,
           CASE WHEN ST_CoveredBy(l.geom, o.area) THEN l.geom
                ELSE ST_Multi(ST_CollectionExtract(ST_Intersection(l.geom, o.area), 3))
           END AS piece
    FROM community_group o
    JOIN lsoa_coverage l ON ST_Intersects(l.geom, o.area)
    WHERE {owners}
    OFFSET 0
) cut
WHERE NOT ST_IsEmpty(piece) AND ST_Area(piece) > 0;
