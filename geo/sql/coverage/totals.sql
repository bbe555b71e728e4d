-- Coverage totals over the LSOAs {filter} keeps (a fixed fragment: all, or one district's),
-- for all of them (scope 'england') and for each district.
-- Active groups and organisers are counted once per area however many of its LSOAs they
-- work in: groups listed with activity on or after :since, organisers marked active.
WITH scoped AS (
    SELECT code, lad_code, lad_name, imd_decile, adults, adults_covered,
           adults_organiser_covered, cold_spot, as_of
    FROM lsoa_coverage
    WHERE {filter}
),
totals AS (
    SELECT CASE WHEN grouping(lad_code) = 1 THEN 'england' ELSE 'lad' END AS scope,
           coalesce(lad_code, %(england)s) AS code,
           CASE WHEN grouping(lad_code) = 1 THEN 'England' ELSE min(lad_name) END AS name,
           count(*) AS lsoas,
           coalesce(sum(adults), 0) AS adults,
           coalesce(sum(adults_covered), 0) AS adults_covered,
           coalesce(sum(adults) FILTER (WHERE imd_decile <= %(deprived_decile_max)s), 0)
               AS deprived_adults,
           coalesce(sum(adults_covered) FILTER (WHERE imd_decile <= %(deprived_decile_max)s), 0)
               AS deprived_adults_covered,
           coalesce(sum(adults_organiser_covered), 0) AS adults_organiser_covered,
           count(*) FILTER (WHERE cold_spot) AS cold_spots,
           max(as_of) AS as_of
    FROM scoped
    GROUP BY GROUPING SETS ((), (lad_code))
),
active_workers AS (
    SELECT s.lad_code, 'group' AS kind, gl.group_id AS id
    FROM scoped s
    JOIN group_lsoa gl ON gl.lsoa_code = s.code
    JOIN community_group g ON g.id = gl.group_id
    WHERE g.listed AND g.last_activity_on >= %(since)s
    UNION ALL
    SELECT s.lad_code, 'organiser', ol.organiser_id
    FROM scoped s
    JOIN organiser_lsoa ol ON ol.lsoa_code = s.code
    JOIN organiser o ON o.id = ol.organiser_id
    WHERE o.active
),
workers AS (
    SELECT CASE WHEN grouping(lad_code) = 1 THEN 'england' ELSE 'lad' END AS scope,
           coalesce(lad_code, %(england)s) AS code,
           count(DISTINCT id) FILTER (WHERE kind = 'group') AS active_groups,
           count(DISTINCT id) FILTER (WHERE kind = 'organiser') AS active_organisers
    FROM active_workers
    GROUP BY GROUPING SETS ((), (lad_code))
)
SELECT t.scope, t.code, t.name, t.lsoas, t.adults, t.adults_covered, t.deprived_adults,
       t.deprived_adults_covered, t.adults_organiser_covered, t.cold_spots, t.as_of,
       coalesce(w.active_groups, 0) AS active_groups,
       coalesce(w.active_organisers, 0) AS active_organisers
FROM totals t
LEFT JOIN workers w ON w.scope = t.scope AND w.code = t.code
ORDER BY t.scope, t.code;
