-- One LSOA's coverage row (no geometry).
SELECT code, name, lad_code, lad_name, imd_decile, adults, covered_share, adults_covered,
       adults_uncovered, active_groups, organiser_share, adults_organiser_covered, organisers,
       cold_spot, as_of
FROM lsoa_coverage
WHERE code = %(code)s;
