-- Recompute the coverage of the LSOAs the scope names (a fixed fragment: every LSOA, or the
-- codes a write touched). group_cover and organiser_cover (fixed fragments) are what active
-- groups and organisers cover of each (coverage/lsoa_cover.sql: inline for a write, read from
-- coverage/lsoa_covers_all.sql in a national recompute). The share is the covered area over
-- the LSOA's area in EPSG:27700, clipped to [0, 1] (1 when a piece is the whole LSOA);
-- adults are spread evenly over the LSOA. Only rows whose values change are written.
WITH scope AS ({scope}),
group_cover AS ({group_cover}),
organiser_cover AS ({organiser_cover}),
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
