-- After a load: LSOAs new to the coverage edition, nothing covered yet.
WITH fresh AS ({fresh})
INSERT INTO lsoa_coverage (
    code, fid, name, lad_code, lad_name, imd_decile, adults, covered_share, adults_covered,
    adults_uncovered, active_groups, organiser_share, adults_organiser_covered, organisers,
    cold_spot, as_of, geom, geom_4326, geom_3857, geom_3857_low, geom_3857_mid
)
SELECT f.code, f.fid, f.name, f.lad_code, f.lad_name, f.imd_decile, f.adults, 0, 0, f.adults,
       0, 0, 0, 0,
       coalesce(f.imd_decile <= %(deprived_decile_max)s AND 0 < %(threshold)s, false),
       %(as_of)s, f.geom, f.geom_4326, f.geom_3857, f.geom_3857_low, f.geom_3857_mid
FROM fresh f
WHERE NOT EXISTS (SELECT 1 FROM lsoa_coverage c WHERE c.code = f.code);
