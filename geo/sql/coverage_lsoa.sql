-- Recompute the coverage of the LSOAs {scope} names (a fixed fragment: every LSOA, or the
-- codes a write touched). Covered area = area of the union of the pieces of the ACTIVE groups
-- in the LSOA (listed, latest activity on or after :since), so overlaps count once; the share
-- is that over the LSOA's area in EPSG:27700, clipped to [0, 1]; adults are spread evenly
-- over the LSOA (when one piece is the whole LSOA, that is it: no union is computed). The
-- same for active organisers' patches. Pieces are unioned in owner order,
-- so an incremental and a national recompute give the same numbers. Only rows whose values
-- change are written.
WITH scope AS ({scope}),
group_cover AS (
    SELECT gl.lsoa_code, count(*) AS owners, bool_or(gl.piece = c.geom) AS whole,
           CASE WHEN count(*) = 1 THEN ST_Area((array_agg(gl.piece))[1])
                WHEN bool_or(gl.piece = c.geom) THEN NULL
                ELSE ST_Area(ST_Union(array_agg(gl.piece ORDER BY gl.group_id)))
           END AS area_m2
    FROM scope
    JOIN lsoa_coverage c ON c.code = scope.code
    JOIN group_lsoa gl ON gl.lsoa_code = scope.code
    JOIN community_group g ON g.id = gl.group_id
    WHERE g.listed AND g.last_activity_on >= %(since)s
    GROUP BY gl.lsoa_code
),
organiser_cover AS (
    SELECT ol.lsoa_code, count(*) AS owners, bool_or(ol.piece = c.geom) AS whole,
           CASE WHEN count(*) = 1 THEN ST_Area((array_agg(ol.piece))[1])
                WHEN bool_or(ol.piece = c.geom) THEN NULL
                ELSE ST_Area(ST_Union(array_agg(ol.piece ORDER BY ol.organiser_id)))
           END AS area_m2
    FROM scope
    JOIN lsoa_coverage c ON c.code = scope.code
    JOIN organiser_lsoa ol ON ol.lsoa_code = scope.code
    JOIN organiser o ON o.id = ol.organiser_id
    WHERE o.active
    GROUP BY ol.lsoa_code
),
computed AS (
    SELECT c.code,
           coalesce(gc.owners, 0) AS groups,
           CASE WHEN gc.whole THEN 1.0
                ELSE least(1.0, greatest(0.0, coalesce(gc.area_m2 / nullif(ST_Area(c.geom), 0), 0)))
           END AS share,
           coalesce(oc.owners, 0) AS organisers,
           CASE WHEN oc.whole THEN 1.0
                ELSE least(1.0, greatest(0.0, coalesce(oc.area_m2 / nullif(ST_Area(c.geom), 0), 0)))
           END AS organiser_share
    FROM scope
    JOIN lsoa_coverage c ON c.code = scope.code
    LEFT JOIN group_cover gc ON gc.lsoa_code = c.code
    LEFT JOIN organiser_cover oc ON oc.lsoa_code = c.code
)
UPDATE lsoa_coverage c
SET covered_share = n.share,
    adults_covered = c.adults * n.share,
    adults_uncovered = c.adults - c.adults * n.share,
    active_groups = n.groups,
    organiser_share = n.organiser_share,
    adults_organiser_covered = c.adults * n.organiser_share,
    organisers = n.organisers,
    cold_spot = coalesce(c.imd_decile <= %(deprived_decile_max)s AND n.share < %(threshold)s, false),
    as_of = %(as_of)s
FROM computed n
WHERE c.code = n.code
  AND (c.covered_share, c.active_groups, c.organiser_share, c.organisers, c.as_of)
      IS DISTINCT FROM (n.share, n.groups, n.organiser_share, n.organisers, %(as_of)s::text);
