-- Rebuild the serving tables from the normalised ones (inside the load's transaction).
-- Tolerances for tile geometries, in EPSG:3857 metres: about one MVT unit (extent 4096) at
-- zoom 7 (low: tiles z<=7) and at zoom 10 (mid: tiles z8-10); exact geometries above.
DELETE FROM lad_deprivation;

-- The LSOAs' rows are computed apart (lsoa_deprivation_fresh), then written where they
-- differ from the stored ones: a reload of the same files writes none of them, and so adds
-- nothing to the table's five spatial indexes (13 s of a 48 s reload when every row was
-- deleted and inserted again). A stored row whose LSOA geometry is unchanged (= is exact
-- equality of the coordinates) lends its simplified geometries, which the same input makes
-- the same. The index values are pivoted to one row per edition and LSOA before the LSOAs'
-- geometries join them (grouping the joined rows carried every geometry through the
-- aggregate once per domain).
CREATE TEMP TABLE lsoa_deprivation_fresh ON COMMIT DROP AS
SELECT v.edition_code, l.code, substr(l.code, 2)::bigint AS fid, l.name, l.lad_code,
       lad.name AS lad_name, l.ward_code, ward.name AS ward_name, den.total AS population,
       v.imd_score, v.imd_rank, v.imd_decile,
       v.income_score, v.income_rank, v.income_decile,
       v.employment_score, v.employment_rank, v.employment_decile,
       v.education_score, v.education_rank, v.education_decile,
       v.health_score, v.health_rank, v.health_decile,
       v.crime_score, v.crime_rank, v.crime_decile,
       v.barriers_score, v.barriers_rank, v.barriers_decile,
       v.living_environment_score, v.living_environment_rank, v.living_environment_decile,
       v.idaci_score, v.idaci_rank, v.idaci_decile,
       v.idaopi_score, v.idaopi_rank, v.idaopi_decile,
       l.geom, l.geom_4326, l.geom_3857,
       CASE WHEN old.code IS NULL THEN ST_SimplifyPreserveTopology(l.geom_3857, 76)
            ELSE old.geom_3857_low END AS geom_3857_low,
       CASE WHEN old.code IS NULL THEN ST_SimplifyPreserveTopology(l.geom_3857, 9.5)
            ELSE old.geom_3857_mid END AS geom_3857_mid
FROM (
    SELECT edition_code, lsoa_code,
           max(score) FILTER (WHERE domain_code = 'imd') AS imd_score,
           max(rank) FILTER (WHERE domain_code = 'imd') AS imd_rank,
           max(decile) FILTER (WHERE domain_code = 'imd') AS imd_decile,
           max(score) FILTER (WHERE domain_code = 'income') AS income_score,
           max(rank) FILTER (WHERE domain_code = 'income') AS income_rank,
           max(decile) FILTER (WHERE domain_code = 'income') AS income_decile,
           max(score) FILTER (WHERE domain_code = 'employment') AS employment_score,
           max(rank) FILTER (WHERE domain_code = 'employment') AS employment_rank,
           max(decile) FILTER (WHERE domain_code = 'employment') AS employment_decile,
           max(score) FILTER (WHERE domain_code = 'education') AS education_score,
           max(rank) FILTER (WHERE domain_code = 'education') AS education_rank,
           max(decile) FILTER (WHERE domain_code = 'education') AS education_decile,
           max(score) FILTER (WHERE domain_code = 'health') AS health_score,
           max(rank) FILTER (WHERE domain_code = 'health') AS health_rank,
           max(decile) FILTER (WHERE domain_code = 'health') AS health_decile,
           max(score) FILTER (WHERE domain_code = 'crime') AS crime_score,
           max(rank) FILTER (WHERE domain_code = 'crime') AS crime_rank,
           max(decile) FILTER (WHERE domain_code = 'crime') AS crime_decile,
           max(score) FILTER (WHERE domain_code = 'barriers') AS barriers_score,
           max(rank) FILTER (WHERE domain_code = 'barriers') AS barriers_rank,
           max(decile) FILTER (WHERE domain_code = 'barriers') AS barriers_decile,
           max(score) FILTER (WHERE domain_code = 'living_environment') AS living_environment_score,
           max(rank) FILTER (WHERE domain_code = 'living_environment') AS living_environment_rank,
           max(decile) FILTER (WHERE domain_code = 'living_environment') AS living_environment_decile,
           max(score) FILTER (WHERE domain_code = 'idaci') AS idaci_score,
           max(rank) FILTER (WHERE domain_code = 'idaci') AS idaci_rank,
           max(decile) FILTER (WHERE domain_code = 'idaci') AS idaci_decile,
           max(score) FILTER (WHERE domain_code = 'idaopi') AS idaopi_score,
           max(rank) FILTER (WHERE domain_code = 'idaopi') AS idaopi_rank,
           max(decile) FILTER (WHERE domain_code = 'idaopi') AS idaopi_decile
    FROM lsoa_index_value
    GROUP BY edition_code, lsoa_code
) v
JOIN index_edition e ON e.code = v.edition_code
JOIN lsoa l ON l.vintage = e.lsoa_vintage AND l.code = v.lsoa_code
JOIN lad ON lad.vintage = l.lad_vintage AND lad.code = l.lad_code
LEFT JOIN ward ON ward.vintage = l.ward_vintage AND ward.code = l.ward_code
LEFT JOIN lsoa_population_denominator den ON den.edition_code = v.edition_code AND den.lsoa_code = l.code
LEFT JOIN lsoa_deprivation old
       ON old.edition_code = v.edition_code AND old.code = l.code AND old.geom_3857 = l.geom_3857;

DELETE FROM lsoa_deprivation d
WHERE NOT EXISTS (
    SELECT 1 FROM lsoa_deprivation_fresh f
    WHERE f.edition_code = d.edition_code AND f.code = d.code AND ROW(f.*) IS NOT DISTINCT FROM ROW(d.*)
);
INSERT INTO lsoa_deprivation
SELECT f.*
FROM lsoa_deprivation_fresh f
WHERE NOT EXISTS (
    SELECT 1 FROM lsoa_deprivation d WHERE d.edition_code = f.edition_code AND d.code = f.code
);
DROP TABLE lsoa_deprivation_fresh;

-- Computed IMD measures (lad_summary_measure) and, beside them, the published ones
-- (lad_published_measure; none for an edition whose district summaries are not loaded).
INSERT INTO lad_deprivation
    (edition_code, code, fid, name, region_code, region_name, lsoa_count,
     imd_average_rank, imd_average_rank_rank, imd_average_score, imd_average_score_rank,
     imd_extent, imd_extent_rank, imd_local_concentration, imd_local_concentration_rank,
     imd_proportion_most_deprived_10pct, imd_proportion_most_deprived_10pct_rank,
     published_imd_average_rank, published_imd_average_rank_rank,
     published_imd_average_score, published_imd_average_score_rank,
     published_imd_proportion_most_deprived_10pct, published_imd_proportion_most_deprived_10pct_rank,
     geom, geom_4326, geom_3857, geom_3857_low, geom_3857_mid)
SELECT e.code, lad.code, substr(lad.code, 2)::bigint AS fid, lad.name, lad.region_code,
       lad.region_name,
       (SELECT count(*) FROM lsoa WHERE lsoa.lad_vintage = lad.vintage AND lsoa.lad_code = lad.code),
       max(m.value) FILTER (WHERE m.measure = 'average_rank') AS imd_average_rank,
       max(m.rank) FILTER (WHERE m.measure = 'average_rank') AS imd_average_rank_rank,
       max(m.value) FILTER (WHERE m.measure = 'average_score') AS imd_average_score,
       max(m.rank) FILTER (WHERE m.measure = 'average_score') AS imd_average_score_rank,
       max(m.value) FILTER (WHERE m.measure = 'extent') AS imd_extent,
       max(m.rank) FILTER (WHERE m.measure = 'extent') AS imd_extent_rank,
       max(m.value) FILTER (WHERE m.measure = 'local_concentration') AS imd_local_concentration,
       max(m.rank) FILTER (WHERE m.measure = 'local_concentration') AS imd_local_concentration_rank,
       max(m.value) FILTER (WHERE m.measure = 'proportion_most_deprived_10pct') AS imd_proportion_most_deprived_10pct,
       max(m.rank) FILTER (WHERE m.measure = 'proportion_most_deprived_10pct') AS imd_proportion_most_deprived_10pct_rank,
       max(pub.average_rank), max(pub.average_rank_rank),
       max(pub.average_score), max(pub.average_score_rank),
       max(pub.proportion_most_deprived_10pct), max(pub.proportion_most_deprived_10pct_rank),
       lad.geom, lad.geom_4326, lad.geom_3857,
       ST_SimplifyPreserveTopology(lad.geom_3857, 76),
       ST_SimplifyPreserveTopology(lad.geom_3857, 9.5)
FROM index_edition e
JOIN lad ON lad.vintage = e.lad_vintage
LEFT JOIN lad_summary_measure m
       ON m.edition_code = e.code AND m.lad_code = lad.code AND m.domain_code = 'imd'
LEFT JOIN LATERAL (
    SELECT max(p.value) FILTER (WHERE p.measure = 'average_rank') AS average_rank,
           max(p.rank) FILTER (WHERE p.measure = 'average_rank') AS average_rank_rank,
           max(p.value) FILTER (WHERE p.measure = 'average_score') AS average_score,
           max(p.rank) FILTER (WHERE p.measure = 'average_score') AS average_score_rank,
           max(p.value) FILTER (WHERE p.measure = 'proportion_most_deprived_10pct')
               AS proportion_most_deprived_10pct,
           max(p.rank) FILTER (WHERE p.measure = 'proportion_most_deprived_10pct')
               AS proportion_most_deprived_10pct_rank
    FROM lad_published_measure p
    WHERE p.edition_code = e.code AND p.lad_code = lad.code AND p.domain_code = 'imd'
) pub ON true
GROUP BY e.code, lad.vintage, lad.code;

ANALYZE lsoa_deprivation;
ANALYZE lad_deprivation;
