-- Cut groups' areas (or organisers' patches) by the coverage LSOAs (EPSG:27700): one piece per
-- owner and LSOA it overlaps with positive area (touching along an edge is not overlapping).
-- An LSOA wholly inside the area is its own piece, without computing an intersection (tested
-- as ST_Covers(area, LSOA), which PostGIS answers on the area prepared once for all its LSOAs;
-- ST_CoveredBy(LSOA, area), the same predicate, prepares nothing). Fixed
-- fragments: {table} and {area} are community_group/area or organiser/patch; {owners} chooses
-- the owners: all of them, or o.id = :id. OFFSET 0 keeps the piece computed once (not again
-- in the outer filter). Inserted into the pieces table by coverage/cut_insert.sql (one owner)
-- or staged by coverage/cut_stage.sql (all of them).
SELECT id AS owner_id, code AS lsoa_code, piece
FROM (
    SELECT o.id, l.code,
           CASE WHEN ST_Covers(o.{area}, l.geom) THEN l.geom
                ELSE ST_Multi(ST_CollectionExtract(ST_Intersection(l.geom, o.{area}), 3))
           END AS piece
    FROM {table} o
    JOIN lsoa_coverage l ON ST_Intersects(l.geom, o.{area})
    WHERE {owners}
    OFFSET 0
) cut
WHERE NOT ST_IsEmpty(piece) AND ST_Area(piece) > 0
