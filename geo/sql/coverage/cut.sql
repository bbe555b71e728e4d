-- Cut groups' areas (or organisers' patches) by the coverage LSOAs (EPSG:27700): one piece per
-- owner and LSOA it overlaps with positive area (touching along an edge is not overlapping).
-- An LSOA wholly inside the area ({whole}) is its own piece, and one whose interior is
-- disjoint from the area's ({only_touching}) has none, both without computing an
-- intersection. Fixed fragments: {table} and {area} are community_group/area or
-- organiser/patch; {owners} chooses the owners: all of them, or o.id = :id.
-- How the two are told apart differs (coverage/recompute.py, _OWNERS): an organiser's patch,
-- a circle, covers most of its LSOAs and almost never only touches one, so {whole} is
-- ST_Covers(patch, LSOA), which PostGIS answers on the patch prepared once for all its LSOAs
-- (ST_CoveredBy(LSOA, patch), the same predicate, prepares nothing), and {only_touching} is
-- FALSE. Most of the candidate LSOAs of a group drawn as LSOAs are its neighbours, which
-- only touch it: for groups, one ST_Relate matrix per candidate ({relate}, a lateral call
-- computed once per row) answers both, L covered ('**F**F***': no point of L outside the
-- area) and interiors disjoint ('F********'), for less than the prepared ST_Covers plus the
-- intersections of the neighbours cost (2026-12-07: 1.0 CPU s less for 98,341 candidates).
-- OFFSET 0 keeps the piece computed once (not again in the outer filter). Inserted into the
-- pieces table by coverage/cut_insert.sql (one owner) or staged by coverage/cut_stage.sql
-- (all of them).
SELECT id AS owner_id, code AS lsoa_code, piece
FROM (
    SELECT o.id, l.code,
           CASE WHEN {whole} THEN l.geom
                WHEN {only_touching} THEN NULL
                ELSE ST_Multi(ST_CollectionExtract(ST_Intersection(l.geom, o.{area}), 3))
           END AS piece
    FROM {table} o
    JOIN lsoa_coverage l ON ST_Intersects(l.geom, o.{area})
    {relate}
    WHERE {owners}
    OFFSET 0
) cut
WHERE piece IS NOT NULL AND NOT ST_IsEmpty(piece) AND ST_Area(piece) > 0
