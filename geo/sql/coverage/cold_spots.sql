-- Cold spots: LSOAs in IMD deciles 1-2 whose covered share is below :threshold, ranked by the
-- adults no active group reaches (most first; ties by code), optionally in one district.
SELECT row_number() OVER (ORDER BY adults_uncovered DESC, code) AS rank,
       code, name, lad_code, lad_name, imd_decile, adults, covered_share, adults_covered,
       adults_uncovered, active_groups, organisers
FROM lsoa_coverage
WHERE imd_decile <= %(deprived_decile_max)s
  AND covered_share < %(threshold)s
  AND (%(lad)s::text IS NULL OR lad_code = %(lad)s::text)
ORDER BY adults_uncovered DESC, code
LIMIT %(limit)s;
