-- One LSOA with its LAD, ward, population and every index value of the edition. `wanted` is
-- a one-row query naming it (code, vintage, edition: the edition's code, edition_ref: the
-- edition's row as JSON or NULL), composed in by geo.areas: areas/lsoa_by_code.sql for a code
-- given, areas/lsoa_at_point.sql for a map click (the edition, the point and the profile in
-- one round trip).
WITH wanted AS MATERIALIZED ({wanted})
SELECT wanted.edition_ref, l.code, l.name, l.vintage, l.msoa_code,
       l.lad_code, lad.name AS lad_name, l.lad_vintage,
       l.ward_code, ward.name AS ward_name, l.ward_vintage,
       den.total AS denominator_total, den.working_age AS denominator_working_age,
       est.reference_year AS estimate_year, est.total AS estimate_total,
       est.adults_18_plus AS estimate_adults_18_plus,
       coalesce((
           SELECT json_agg(json_build_object(
                      'domain', d.code, 'title', d.title, 'kind', d.kind,
                      'score', v.score, 'rank', v.rank, 'decile', v.decile) ORDER BY d.sort_order)
           FROM index_domain d
           JOIN lsoa_index_value v
             ON v.edition_code = d.edition_code AND v.domain_code = d.code AND v.lsoa_code = l.code
           WHERE d.edition_code = wanted.edition), '[]') AS indices,
       coalesce((
           SELECT json_agg(json_build_object(
                      'code', CASE WHEN l.vintage = 2011 THEN c.lsoa21_code ELSE c.lsoa11_code END,
                      'vintage', CASE WHEN l.vintage = 2011 THEN 2021 ELSE 2011 END,
                      'change', c.change_code) ORDER BY c.lsoa11_code, c.lsoa21_code)
           FROM lsoa_2011_2021 c
           WHERE (l.vintage = 2011 AND c.lsoa11_code = l.code)
              OR (l.vintage = 2021 AND c.lsoa21_code = l.code)), '[]') AS other_generation
FROM wanted
JOIN lsoa l ON l.vintage = wanted.vintage AND l.code = wanted.code
JOIN lad ON lad.vintage = l.lad_vintage AND lad.code = l.lad_code
LEFT JOIN ward ON ward.vintage = l.ward_vintage AND ward.code = l.ward_code
LEFT JOIN lsoa_population_denominator den
       ON den.edition_code = wanted.edition AND den.lsoa_code = l.code
LEFT JOIN LATERAL (
    SELECT reference_year, total, adults_18_plus FROM lsoa_population_estimate e
    WHERE e.lsoa_vintage = l.vintage AND e.lsoa_code = l.code
    ORDER BY reference_year DESC LIMIT 1
) est ON true
